pinning = on
thread-policy = sometimes
