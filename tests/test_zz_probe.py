import numpy as np
def test_probe(tiny_services, small_corpus):
    s = tiny_services
    t = s.decode(s.index.mu[:400])
    n = (t >= 2).sum(1)
    print("decoded note-ons", np.bincount(n)[:30], len(small_corpus), len(small_corpus.tunes))
    print(s.labels[0], [round(float(d["std"]),3) for d in s.labels])
