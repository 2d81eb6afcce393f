"""The project's developer tools: local runs, the demo, the local API, replay, deploy helpers; none ships."""
