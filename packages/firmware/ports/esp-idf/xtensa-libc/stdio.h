#pragma once
#include <stddef.h>
int snprintf(char *dst, size_t n, const char *fmt, ...);
int sscanf(const char *s, const char *fmt, ...);
