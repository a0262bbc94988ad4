"""What an operator's Prometheus reads: the installation's state from the database at scrape
time (``gauges``), each process's own counters of adapter calls (``instruments``), and the
text format either way (``exposition``). Importing it opens nothing and starts no server."""
