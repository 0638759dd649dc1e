import numpy as np
def test_probe(tiny_services, small_corpus):
    s = tiny_services
    for temp in (0.3, 0.5, 0.8, 1.0):
        t = s.decode(s.index.mu[:200], temp, 0)
        n = (t >= 2).sum(1)
        print(temp, "decoded note-ons", np.percentile(n, [0, 10, 50, 90]))
    print("mu range", np.abs(s.index.mu).max(), s.index.mu.std(0)[:5])
