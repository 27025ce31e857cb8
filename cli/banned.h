/*
 * banned.h: functions the project does not use (after git's banned.h).
 * Included into every compilation unit with -include; using one is a
 * compile error that says what to use instead.
 */
#ifndef NESTIFY_BANNED_H
#define NESTIFY_BANNED_H

/* The system's own headers first: glibc defines some of these inline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANNED(func) sorry_##func##_is_banned_use_a_bounded_alternative

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gets
#define gets(x) BANNED(gets)

#endif /* NESTIFY_BANNED_H */
