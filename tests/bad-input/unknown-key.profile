nested = on
turbo = on
