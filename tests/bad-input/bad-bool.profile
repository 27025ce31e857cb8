nested = on
pinning = maybe
