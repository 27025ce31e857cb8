cpu-limits = on
cpu-quota-percent = 1000
