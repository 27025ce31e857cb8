pinning = on
# the host of the tests has no CPU 4095
housekeeping = 0,4095
