"""The `wirewatch` command line: one module per command group (main.py wires them).

The model libraries are told here, before anything imports them, that nothing may be
downloaded at run time and no progress bar may reach the logs.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars in the logs
