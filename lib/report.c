/*
 * report.c: what a run changed, warned about and refused, and why
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const severity_names[NST_SEVERITY_LAST] = {
    "change", "warning", "error",
};

void
nst_report_init(struct nst_report *report, const char *domain,
                const char *profile)
{
    memset(report, 0, sizeof(*report));
    report->domain = domain ? nst_printf("%s", domain) : NULL;
    report->profile = profile ? nst_printf("%s", profile) : NULL;
}

void
nst_report_clear(struct nst_report *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->nentries; i++) {
        free(report->entries[i].rule);
        free(report->entries[i].target);
        free(report->entries[i].message);
    }
    free(report->entries);
    free(report->domain);
    free(report->profile);
    memset(report, 0, sizeof(*report));
}

void
nst_report_add(struct nst_report *report, enum nst_severity severity,
               const char *rule, const char *target, const char *fmt, ...)
{
    struct nst_report_entry entry = { .severity = severity };
    va_list ap;

    va_start(ap, fmt);
    entry.message = nst_vprintf(fmt, ap);
    va_end(ap);
    entry.rule = nst_printf("%s", rule);
    entry.target = target ? nst_printf("%s", target) : NULL;
    struct nst_report_entry *entries =
        realloc(report->entries, (report->nentries + 1) * sizeof(entry));
    if (!entry.message || !entry.rule || (target && !entry.target) ||
        !entries) {
        free(entry.message);
        free(entry.rule);
        free(entry.target);
        if (entries)
            report->entries = entries;
        return;
    }
    report->entries = entries;
    report->entries[report->nentries++] = entry;
}

size_t
nst_report_count(const struct nst_report *report, enum nst_severity severity)
{
    size_t n = 0;
    for (size_t i = 0; i < report->nentries; i++)
        if (report->entries[i].severity == severity)
            n++;
    return n;
}

static const char *
plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

char *
nst_report_format_text(const struct nst_report *report)
{
    struct nst_buf buf = { 0 };
    size_t changes = nst_report_count(report, NST_CHANGE);
    size_t warnings = nst_report_count(report, NST_WARNING);
    size_t errors = nst_report_count(report, NST_ERROR);

    nst_buf_addf(&buf, "domain '%s', profile '%s': ",
                 report->domain ? report->domain : "?",
                 report->profile ? report->profile : "?");
    if (errors)
        nst_buf_addf(&buf, "refused (%zu %s)", errors,
                     plural(errors, "error", "errors"));
    else if (changes)
        nst_buf_addf(&buf, "%zu %s", changes,
                     plural(changes, "change", "changes"));
    else
        nst_buf_adds(&buf, "no change needed");
    if (warnings)
        nst_buf_addf(&buf, ", %zu %s", warnings,
                     plural(warnings, "warning", "warnings"));
    nst_buf_adds(&buf, "\n");
    for (size_t i = 0; i < report->nentries; i++) {
        const struct nst_report_entry *e = &report->entries[i];
        nst_buf_addf(&buf, "  %-8s %s", severity_names[e->severity],
                     e->rule);
        if (e->target)
            nst_buf_addf(&buf, " %s", e->target);
        nst_buf_addf(&buf, ": %s\n", e->message);
    }
    return nst_buf_finish(&buf, NULL);
}

static void
add_json_entries(struct nst_buf *buf, const struct nst_report *report,
                 enum nst_severity severity, const char *key, bool last)
{
    bool first = true;

    nst_buf_addf(buf, "  \"%s\": [", key);
    for (size_t i = 0; i < report->nentries; i++) {
        const struct nst_report_entry *e = &report->entries[i];
        if (e->severity != severity)
            continue;
        nst_buf_adds(buf, first ? "\n" : ",\n");
        first = false;
        nst_buf_adds(buf, "    {\"rule\": ");
        nst_buf_add_json(buf, e->rule);
        nst_buf_adds(buf, ", \"target\": ");
        nst_buf_add_json(buf, e->target);
        nst_buf_adds(buf, ", \"message\": ");
        nst_buf_add_json(buf, e->message);
        nst_buf_adds(buf, "}");
    }
    nst_buf_adds(buf, first ? "]" : "\n  ]");
    nst_buf_adds(buf, last ? "\n" : ",\n");
}

char *
nst_report_format_json(const struct nst_report *report)
{
    struct nst_buf buf = { 0 };
    bool refused = nst_report_count(report, NST_ERROR) > 0;

    nst_buf_adds(&buf, "{\n  \"domain\": ");
    nst_buf_add_json(&buf, report->domain ? report->domain : "");
    nst_buf_adds(&buf, ",\n  \"profile\": ");
    nst_buf_add_json(&buf, report->profile ? report->profile : "");
    nst_buf_addf(&buf, ",\n  \"result\": \"%s\",\n",
                 refused ? "refused" :
                 nst_report_count(report, NST_CHANGE) ? "changed" :
                 "unchanged");
    add_json_entries(&buf, report, NST_CHANGE, "changes", false);
    add_json_entries(&buf, report, NST_WARNING, "warnings", false);
    add_json_entries(&buf, report, NST_ERROR, "errors", true);
    nst_buf_adds(&buf, "}\n");
    return nst_buf_finish(&buf, NULL);
}
