/*
 * banned.h - functions we never call (CONVENTIONS.md rule 7). Included
 * after the system headers of every source file through -include; any use
 * is a compile error naming the replacement.
 */
#ifndef CAIRN_BANNED_H
#define CAIRN_BANNED_H

#define CAIRN_BANNED(func) sorry_##func##_is_banned_in_cairn

#undef sprintf
#define sprintf(...) CAIRN_BANNED(sprintf_use_snprintf_or_cairn_buf_printf)
#undef vsprintf
#define vsprintf(...) CAIRN_BANNED(vsprintf_use_vsnprintf)
#undef strcpy
#define strcpy(...) CAIRN_BANNED(strcpy_use_memcpy_with_a_length)
#undef strcat
#define strcat(...) CAIRN_BANNED(strcat_use_cairn_buf)
#undef strncpy
#define strncpy(...) CAIRN_BANNED(strncpy_use_memcpy_with_a_length)
#undef strncat
#define strncat(...) CAIRN_BANNED(strncat_use_cairn_buf)
#undef strtok
#define strtok(...) CAIRN_BANNED(strtok_use_strtok_r_or_a_parser)
#undef gets
#define gets(...) CAIRN_BANNED(gets)
#undef localtime
#define localtime(...) CAIRN_BANNED(localtime_use_gmtime_r)
#undef gmtime
#define gmtime(...) CAIRN_BANNED(gmtime_use_gmtime_r)

#endif
