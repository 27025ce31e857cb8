nested = on
= on
