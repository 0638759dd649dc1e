"""Variants of the UI that only benchmarks build (never the product): a bare echo app for Gradio's own floor
(bench.run_http) and the Sliders screen with its drags through Gradio events (bench.browser_levers). They live in
the UI package because only it imports gradio."""
