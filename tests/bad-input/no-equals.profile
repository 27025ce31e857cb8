nested = on
just some words
