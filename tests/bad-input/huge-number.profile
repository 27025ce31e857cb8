memtune = on
memtune-overhead-min = 99999999999999999999
