memtune = on
memtune-overhead-percent = -1
