pinning = on
housekeeping = 0-
