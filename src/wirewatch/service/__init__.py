"""The running service: `Service` (service.py) owns every long-lived part and the order in
which they start and stop; wiring.py builds them from the config; runner.py is the process
around it (signals, reload, standby); server.py serves /healthz and /metrics (metrics.py);
logs.py and pidfile.py are the service's lines and its one-per-database lock."""
