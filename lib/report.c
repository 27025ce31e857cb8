/*
 * report.c: findings, the one list that nst_apply's report (what a run
 * changed, warned about and refused, and why) and the linter's result
 * (what is wrong with a domain) are made of, and both as text and JSON
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const severity_names[NST_SEVERITY_LAST] = {
    "change", "warning", "error",
};

/* ------------------------------------------------------------ the list */

int
nst_findings_add(struct nst_findings *list, enum nst_severity severity,
                 const char *id, const char *rule, char *target,
                 char *message, char *fix)
{
    struct nst_finding *items = NULL;

    if (message)
        items = realloc(list->items, (list->n + 1) * sizeof(*items));
    if (!items) {
        free(target);
        free(message);
        free(fix);
        return -1;
    }
    list->items = items;
    items[list->n++] = (struct nst_finding){
        .severity = severity, .id = id, .rule = rule, .target = target,
        .message = message, .fix = fix,
    };
    return 0;
}

size_t
nst_findings_count(const struct nst_findings *list,
                   enum nst_severity severity)
{
    size_t n = 0;
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].severity == severity)
            n++;
    return n;
}

void
nst_findings_clear(struct nst_findings *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].target);
        free(list->items[i].message);
        free(list->items[i].fix);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

/* -------------------------------------------------------------- report */

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
    nst_findings_clear(&report->findings);
    free(report->domain);
    free(report->profile);
    memset(report, 0, sizeof(*report));
}

void
nst_report_add(struct nst_report *report, enum nst_severity severity,
               const char *rule, const char *target, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *message = nst_vprintf(fmt, ap);
    va_end(ap);
    char *copy = target ? nst_printf("%s", target) : NULL;
    if (target && !copy) {
        free(message);
        return;
    }
    nst_findings_add(&report->findings, severity, NULL, rule, copy, message,
                     NULL);
}

size_t
nst_report_count(const struct nst_report *report, enum nst_severity severity)
{
    return nst_findings_count(&report->findings, severity);
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
    for (size_t i = 0; i < report->findings.n; i++) {
        const struct nst_finding *e = &report->findings.items[i];
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
    for (size_t i = 0; i < report->findings.n; i++) {
        const struct nst_finding *e = &report->findings.items[i];
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

/* ---------------------------------------------------------------- lint */

void
nst_lint_result_clear(struct nst_lint_result *result)
{
    if (!result)
        return;
    nst_findings_clear(&result->findings);
    free(result->domain);
    free(result->label);
    memset(result, 0, sizeof(*result));
}

/* "VN102, VN104, ..." of the rules skipped without a host. */
static void
add_host_rule_ids(struct nst_buf *buf)
{
    size_t n;
    const struct nst_lint_rule *rules = nst_lint_rules(&n);
    bool first = true;

    for (size_t i = 0; i < n; i++) {
        if (!rules[i].needs_host)
            continue;
        nst_buf_addf(buf, "%s%s", first ? "" : ", ", rules[i].id);
        first = false;
    }
}

char *
nst_lint_format_text(const struct nst_lint_result *result)
{
    struct nst_buf buf = { 0 };

    for (size_t i = 0; i < result->findings.n; i++) {
        const struct nst_finding *f = &result->findings.items[i];
        nst_buf_addf(&buf, "%s: %s %s: %s (fix: %s)\n", result->label,
                     severity_names[f->severity], f->id, f->message, f->fix);
    }
    if (!result->host_checked) {
        nst_buf_addf(&buf, "%s: note: no host capabilities, rules ",
                     result->label);
        add_host_rule_ids(&buf);
        nst_buf_adds(&buf, " skipped (give --host-caps, or lint on a "
                     "connection)\n");
    }
    return nst_buf_finish(&buf, NULL);
}

char *
nst_lint_format_json(const struct nst_lint_result *results, size_t n)
{
    struct nst_buf buf = { 0 };
    size_t errors = 0, warnings = 0;

    for (size_t i = 0; i < n; i++) {
        errors += nst_findings_count(&results[i].findings, NST_ERROR);
        warnings += nst_findings_count(&results[i].findings, NST_WARNING);
    }
    nst_buf_addf(&buf, "{\n  \"errors\": %zu,\n  \"warnings\": %zu,\n"
                 "  \"domains\": [", errors, warnings);
    for (size_t i = 0; i < n; i++) {
        const struct nst_lint_result *r = &results[i];
        nst_buf_adds(&buf, i ? ",\n" : "\n");
        nst_buf_adds(&buf, "    {\n      \"domain\": ");
        nst_buf_add_json(&buf, r->domain);
        nst_buf_adds(&buf, ",\n      \"label\": ");
        nst_buf_add_json(&buf, r->label);
        nst_buf_addf(&buf, ",\n      \"host_rules\": \"%s\",\n"
                     "      \"errors\": %zu,\n      \"warnings\": %zu,\n"
                     "      \"findings\": [",
                     r->host_checked ? "checked" : "skipped",
                     nst_findings_count(&r->findings, NST_ERROR),
                     nst_findings_count(&r->findings, NST_WARNING));
        for (size_t k = 0; k < r->findings.n; k++) {
            const struct nst_finding *f = &r->findings.items[k];
            nst_buf_adds(&buf, k ? ",\n" : "\n");
            nst_buf_addf(&buf, "        {\"id\": \"%s\", \"rule\": \"%s\", "
                         "\"severity\": \"%s\", \"target\": ", f->id,
                         f->rule, severity_names[f->severity]);
            nst_buf_add_json(&buf, f->target);
            nst_buf_adds(&buf, ", \"message\": ");
            nst_buf_add_json(&buf, f->message);
            nst_buf_adds(&buf, ", \"fix\": ");
            nst_buf_add_json(&buf, f->fix);
            nst_buf_adds(&buf, "}");
        }
        nst_buf_adds(&buf, r->findings.n ? "\n      ]\n    }" : "]\n    }");
    }
    nst_buf_adds(&buf, n ? "\n  ]\n}\n" : "]\n}\n");
    return nst_buf_finish(&buf, NULL);
}
