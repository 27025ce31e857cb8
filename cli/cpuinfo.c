/*
 * cpuinfo.c: /proc/cpuinfo, read once for every caller
 */
#include <string.h>

#include "cpuinfo.h"

/* Whether the space-separated list [p, end) holds word. */
static bool
has_word(const char *p, const char *end, const char *word)
{
    size_t wlen = strlen(word);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - w) == wlen && memcmp(w, word, wlen) == 0)
            return true;
    }
    return false;
}

/* When [line, stop) is "key<blanks>: value", the start of value. */
static const char *
field_value(const char *line, const char *stop, const char *key)
{
    size_t klen = strlen(key);
    if ((size_t)(stop - line) < klen || memcmp(line, key, klen) != 0)
        return NULL;
    const char *p = line + klen;
    while (p < stop && (*p == ' ' || *p == '\t'))
        p++;
    return p < stop && *p == ':' ? p + 1 : NULL;
}

void
vn_cpuinfo_parse(const char *text, size_t len, struct vn_cpuinfo *out)
{
    const char *end = text + len, *v;
    bool vendor_intel = false, vendor_amd = false, vendor_seen = false;
    bool vmx_flags_seen = false;

    memset(out, 0, sizeof(*out));
    for (const char *line = text; line && line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *stop = eol ? eol : end;
        if ((v = field_value(line, stop, "flags"))) {
            if (out->cpus++ == 0) {
                out->ept |= has_word(v, stop, "ept");
                out->npt = has_word(v, stop, "npt");
                out->hypervisor = has_word(v, stop, "hypervisor");
            }
            out->vmx += has_word(v, stop, "vmx");
            out->svm += has_word(v, stop, "svm");
        } else if (!vmx_flags_seen &&
                   (v = field_value(line, stop, "vmx flags"))) {
            /* Linux 5.9 and later list VMX's own features here. */
            vmx_flags_seen = true;
            out->ept |= has_word(v, stop, "ept");
        } else if (!vendor_seen &&
                   (v = field_value(line, stop, "vendor_id"))) {
            vendor_seen = true;
            vendor_intel = has_word(v, stop, "GenuineIntel");
            vendor_amd = has_word(v, stop, "AuthenticAMD") ||
                         has_word(v, stop, "HygonGenuine");
        }
        line = eol ? eol + 1 : NULL;
    }
    out->vendor = out->vmx ? VN_CPU_INTEL : out->svm ? VN_CPU_AMD :
                  vendor_intel ? VN_CPU_INTEL : vendor_amd ? VN_CPU_AMD :
                  VN_CPU_UNKNOWN;
}
