"""HTTP without Gradio: the public JSON API, its routes, slider drags from the page, and the request guard."""
