/*
 * xslt.c: --xslt FILE, a site's own stylesheet run on the engine's output
 *
 * The stylesheet runs after the profiles and before anything is shown,
 * compared or defined, so a site can add what virt-nestify does not
 * manage.  It is untrusted input as much as the domain is:
 *
 * - it is parsed with XML_PARSE_NONET, without entity substitution or
 *   DTD loading, and a DOCTYPE is refused outright, as for domains;
 * - libxslt's security preferences forbid writing files (xsl:document,
 *   exsl:document), creating directories and any network access, and
 *   every file read but the stylesheet's own (document(''), which
 *   libxslt reads again from its file, under the same parser options):
 *   document() of any other file, xsl:import and xsl:include fail;
 * - any error libxslt reports during the run fails it, and so does
 *   xsl:message terminate='yes' and a result whose root is not <domain>.
 *
 * --xslt-param NAME=VALUE gives the stylesheet's parameter NAME the string
 * VALUE, as xsltproc --stringparam does but with xsltQuoteUserParams: the
 * value is never read as an XPath expression, and may hold both quotes.
 *
 * The result is libxslt's serialisation, not the engine's byte splicing:
 * after a stylesheet that changed something, quoting and spacing are
 * libxslt's (docs/xslt.md).  vn_xml_same() compares documents for what
 * they mean, so a run that changes nothing is still "nothing to change".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/chvalid.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/variables.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#include <libexslt/exslt.h>

#include "transform.h"
#include "nestify.h"
#include "tool.h"

struct vn_xslt {
    char *path;
    xsltStylesheetPtr style;
    xsltSecurityPrefsPtr sec;
    /* --xslt-param: name, value, name, value, ..., NULL, as libxslt
     * takes them; the strings are owned (in owned[]). */
    const char **params;
    char **owned;
    size_t nowned;
};

/* Serialises vn_xslt_apply's use of the process-wide handlers. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

/* libxml2 / libxslt messages, gathered instead of printed. */
static void collect(void *opaque, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
collect(void *opaque, const char *fmt, ...)
{
    struct nst_buf *buf = opaque;
    char *text;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) >= 0) {
        nst_buf_adds(buf, text);
        free(text);
    }
    va_end(ap);
}

static void
collect_structured(void *opaque, xmlErrorPtr error)
{
    struct nst_buf *buf = opaque;
    if (!error || !error->message)
        return;
    if (error->line > 0)
        nst_buf_addf(buf, "line %d: ", error->line);
    nst_buf_adds(buf, error->message);
}

/* Whether line is one of libxslt's locators rather than a message:
 * "runtime error: file F line N element E", "compilation error: ...",
 * "error", "warning".  *where gets "line N" from a runtime locator. */
static bool
locator(const char *line, size_t len, char *where, size_t size)
{
    static const char runtime[] = "runtime error: file ";
    static const char compile[] = "compilation error: file ";
    const char *at;

    if ((len == 5 && !strncmp(line, "error", 5)) ||
        (len == 7 && !strncmp(line, "warning", 7)))
        return true;
    if (strncmp(line, runtime, strlen(runtime)) &&
        strncmp(line, compile, strlen(compile)))
        return false;
    at = memmem(line, len, " line ", 6);
    if (at && !*where) {
        unsigned int n = 0;
        for (at += 6; at < line + len && *at >= '0' && *at <= '9'; at++)
            n = n * 10 + (unsigned int)(*at - '0');
        snprintf(where, size, "line %u: ", n);
    }
    return true;
}

/*
 * The gathered messages as one line: the first message (all of them
 * with all, for xsl:message text), joined with "; ", prefixed with the
 * line of the stylesheet that libxslt named.  Returns a new string the
 * caller frees; fallback when nothing was gathered.
 */
static char *
one_line(struct nst_buf *buf, const char *fallback, bool all)
{
    char *text = nst_buf_finish(buf, NULL);
    struct nst_buf out = { 0 };
    char where[32] = "";
    size_t taken = 0;

    for (const char *line = text ? text : ""; *line;) {
        size_t len = strcspn(line, "\r\n");
        const char *next = line + len + strspn(line + len, "\r\n");
        /* trim blanks; squeeze control characters out */
        while (len && (*line == ' ' || *line == '\t'))
            line++, len--;
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len && !locator(line, len, where, sizeof(where)) &&
            (all || !taken)) {
            if (taken++)
                nst_buf_adds(&out, "; ");
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)line[i] >= 0x20)
                    nst_buf_add(&out, line + i, 1);
        }
        line = next;
    }
    free(text);
    char *msg = nst_buf_finish(&out, NULL);
    char *ret = nst_printf("%s%s", all ? "" : where,
                           msg && *msg ? msg : fallback);
    free(msg);
    return ret;
}

/* Whether libxslt reported a runtime error ("runtime error: file F
 * line N element E" starts a line of what was gathered). */
static bool
runtime_error(const struct nst_buf *buf)
{
    static const char locator[] = "runtime error: ";
    for (size_t i = 0; i + strlen(locator) <= buf->len; i++)
        if ((i == 0 || buf->data[i - 1] == '\n') &&
            !memcmp(buf->data + i, locator, strlen(locator)))
            return true;
    return false;
}

/*
 * detail (a new string, or NULL) with the secrets of the document text
 * masked: a stylesheet's messages may quote any of its values.  Returns
 * a new string (detail is freed), NULL when out of memory.
 */
static char *
mask_detail(const char *text, size_t len, char *detail)
{
    struct nst_doc *doc = NULL;
    char *masked = NULL;

    if (!detail || !*detail)
        return detail;
    /* text is the engine's output: it parses unless memory runs out */
    if (nst_doc_parse(text, len, "domain", &doc, NULL) == 0)
        masked = nst_doc_mask_text(doc, detail);
    nst_doc_free(doc);
    free(detail);
    return masked;
}

/* File reads: only the stylesheet itself, for document('').  At
 * compile time (xsl:import, xsl:include) there is no context: no read. */
static int
read_only_self(xsltSecurityPrefsPtr sec, xsltTransformContextPtr ctxt,
               const char *value)
{
    const char *self = ctxt && ctxt->style && ctxt->style->doc ?
                       (const char *)ctxt->style->doc->URL : NULL;
    char *a = self && value ? realpath(self, NULL) : NULL;
    char *b = a ? realpath(value, NULL) : NULL;
    int ok = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    return ok;
}

void
vn_xslt_free(struct vn_xslt *x)
{
    if (!x)
        return;
    if (xsltGetDefaultSecurityPrefs() == x->sec)
        xsltSetDefaultSecurityPrefs(NULL);
    xsltFreeStylesheet(x->style);
    xsltFreeSecurityPrefs(x->sec);
    for (size_t i = 0; i < x->nowned; i++)
        free(x->owned[i]);
    free(x->owned);
    free(x->params);
    free(x->path);
    free(x);
}

/* Whether s is UTF-8 of characters XML allows (no NUL or other control
 * characters but tab, newline and carriage return). */
static bool
xml_text(const char *s)
{
    size_t left = strlen(s);

    while (left) {
        int len = left < 4 ? (int)left : 4;
        int c = xmlGetUTF8Char((const xmlChar *)s, &len);
        if (c < 0 || len <= 0 || !xmlIsCharQ(c))
            return false;
        s += len;
        left -= (size_t)len;
    }
    return true;
}

int
vn_xslt_check_params(char *const *params, size_t n, char **err)
{
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(params[i], '=');
        if (!eq) {
            nst_set_error(err, "--xslt-param: '%s' is not NAME=VALUE (no "
                          "'=')", params[i]);
            return -1;
        }
        int len = (int)(eq - params[i]);
        char *name = nst_printf("%.*s", len, params[i]);
        if (!name) {
            nst_set_error(err, "out of memory");
            return -1;
        }
        const char *why = NULL;
        if (xmlValidateQName((const xmlChar *)name, 0) != 0)
            why = "is not a parameter name (an XML QName)";
        else if (!xml_text(eq + 1))
            why = "has a value that is not UTF-8 text XML allows";
        for (size_t j = 0; j < i && !why; j++)
            if (!strncmp(params[j], params[i], (size_t)len + 1))
                why = "is given twice";
        if (why) {
            nst_set_error(err, "--xslt-param: '%s' %s", name, why);
            free(name);
            return -1;
        }
        free(name);
    }
    return 0;
}

/* Whether style has a top-level xsl:param of that local name and
 * namespace (xsltproc ignores a parameter nobody declared; here a typo
 * in a NAME is an error, not a stylesheet run without it). */
static bool
declares_param(xsltStylesheetPtr style, const char *local,
               const xmlChar *uri)
{
    for (xsltStackElemPtr v = style->variables; v; v = v->next)
        if (v->comp && v->comp->type == XSLT_FUNC_PARAM &&
            xmlStrEqual(v->name, (const xmlChar *)local) &&
            xmlStrEqual(v->nameURI, uri))
            return true;
    return false;
}

/*
 * x->params from --xslt-param NAME=VALUE (checked by
 * vn_xslt_check_params): a prefixed NAME needs its prefix declared on
 * the stylesheet's root element, where libxslt looks it up.  Returns 0,
 * or -1 with *err set.
 */
static int
set_params(struct vn_xslt *x, char *const *params, size_t n, char **err)
{
    if (!n)
        return 0;
    if (!(x->params = calloc(2 * n + 1, sizeof(*x->params))) ||
        !(x->owned = calloc(2 * n, sizeof(*x->owned))))
        goto oom;
    xmlNodePtr root = xmlDocGetRootElement(x->style->doc);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(params[i], '=');
        int len = (int)(eq - params[i]);
        char *name = nst_printf("%.*s", len, params[i]);
        char *value = nst_printf("%s", eq + 1);
        if (name)
            x->owned[x->nowned++] = name;
        if (value)
            x->owned[x->nowned++] = value;
        if (!name || !value)
            goto oom;
        x->params[2 * i] = name;
        x->params[2 * i + 1] = value;
        const char *colon = strchr(name, ':');
        const xmlChar *uri = NULL;
        if (colon) {
            char *prefix = nst_printf("%.*s", (int)(colon - name), name);
            if (!prefix)
                goto oom;
            xmlNsPtr ns = xmlSearchNs(x->style->doc, root,
                                      (const xmlChar *)prefix);
            if (!ns)
                nst_set_error(err, "--xslt-param: '%s': the prefix '%s' is "
                              "not declared in %s", name, prefix, x->path);
            free(prefix);
            if (!ns)
                return -1;
            uri = ns->href;
        }
        if (!declares_param(x->style, colon ? colon + 1 : name, uri)) {
            nst_set_error(err, "--xslt-param: '%s': %s has no top-level "
                          "<xsl:param name='%s'>", name, x->path, name);
            return -1;
        }
    }
    return 0;
 oom:
    nst_set_error(err, "out of memory");
    return -1;
}

static xsltSecurityPrefsPtr
new_prefs(void)
{
    xsltSecurityPrefsPtr sec = xsltNewSecurityPrefs();
    if (!sec ||
        xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_FILE,
                             xsltSecurityForbid) < 0 ||
        xsltSetSecurityPrefs(sec, XSLT_SECPREF_CREATE_DIRECTORY,
                             xsltSecurityForbid) < 0 ||
        xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_NETWORK,
                             xsltSecurityForbid) < 0 ||
        xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_NETWORK,
                             xsltSecurityForbid) < 0 ||
        xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_FILE,
                             read_only_self) < 0) {
        xsltFreeSecurityPrefs(sec);
        return NULL;
    }
    return sec;
}

struct vn_xslt *
vn_xslt_load(const char *path, char *const *params, size_t nparams,
             char **err)
{
    struct vn_xslt *x = calloc(1, sizeof(*x));
    struct nst_buf msgs = { 0 };
    xmlParserCtxtPtr pctxt = NULL;
    xmlDocPtr doc = NULL;
    const char *what = NULL;

    if (!x || !(x->path = nst_printf("%s", path)) || !(x->sec = new_prefs())) {
        nst_set_error(err, "out of memory");
        goto fail;
    }
    /* EXSLT (node-set, str:, ...): sites use it; its exsl:document
     * writes under the same preferences as xsl:document. */
    exsltRegisterAll();
    /* xsl:import and xsl:include are read when the stylesheet is
     * compiled, under the default preferences: the same ones. */
    xsltSetDefaultSecurityPrefs(x->sec);

    size_t len;
    char *text = vn_read_file(path, &len, err);
    if (!text) {
        free(x->path);
        x->path = NULL;
        goto fail;
    }
    xmlSetGenericErrorFunc(&msgs, collect);
    xmlSetStructuredErrorFunc(&msgs, collect_structured);
    xsltSetGenericErrorFunc(&msgs, collect);
    if ((pctxt = xmlNewParserCtxt()))
        doc = xmlCtxtReadMemory(pctxt, text, (int)len, path, NULL,
                                XML_PARSE_NONET);
    free(text);
    if (!pctxt) {
        what = "out of memory";
    } else if (!doc) {
        what = "not well-formed XML";
    } else if (doc->intSubset) {
        what = "a DOCTYPE is not allowed in a stylesheet";
        free(nst_buf_finish(&msgs, NULL));
        msgs = (struct nst_buf){ 0 };
    } else if (!(x->style = xsltParseStylesheetDoc(doc))) {
        what = "not a valid XSLT 1.0 stylesheet";
    } else if (x->style->errors) {
        what = "not a valid XSLT 1.0 stylesheet";
        doc = NULL;            /* the stylesheet owns it now */
    } else {
        doc = NULL;
    }
    xmlSetGenericErrorFunc(NULL, NULL);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xsltSetGenericErrorFunc(NULL, NULL);
    xmlFreeParserCtxt(pctxt);
    if (what) {
        /* doc is still ours, unless a stylesheet with errors took it */
        xmlFreeDoc(doc);
        char *detail = one_line(&msgs, what, false);
        nst_set_error(err, "%s: %s", path, detail);
        free(detail);
        goto fail;
    }
    free(nst_buf_finish(&msgs, NULL));
    if (set_params(x, params, nparams, err) < 0)
        goto fail;
    return x;

 fail:
    vn_xslt_free(x);
    return NULL;
}

/* Whether the root of doc is a <domain> in no namespace. */
static bool
is_domain(xmlDocPtr doc)
{
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    return root && !root->ns && xmlStrEqual(root->name, BAD_CAST "domain");
}

/* A transformation context for doc, locked down, with the parameters;
 * NULL with *what set when it cannot be made. */
static xsltTransformContextPtr
new_context(const struct vn_xslt *x, xmlDocPtr doc, struct nst_buf *msgs,
            const char **what)
{
    xsltTransformContextPtr ctxt = xsltNewTransformContext(x->style, doc);

    if (!ctxt || xsltSetCtxtSecurityPrefs(x->sec, ctxt) < 0) {
        *what = "out of memory";
    } else {
        ctxt->parserOptions = XML_PARSE_NONET;
        xsltSetTransformErrorFunc(ctxt, msgs, collect);
        /* Strings, never XPath: a value may be any text (a'b"c). */
        if (!x->params || xsltQuoteUserParams(ctxt, x->params) == 0)
            return ctxt;
        *what = "cannot pass the --xslt-param values";
    }
    if (ctxt)
        xsltFreeTransformContext(ctxt);
    return NULL;
}

/*
 * Runs the stylesheet.  libxslt prints some of what it reports (the
 * template stack after an infinite recursion, dozens of lines) through
 * its process-wide generic handler, not the context's: that is gathered
 * too, under a lock so that no other thread's run swaps the handlers
 * meanwhile.
 */
static xmlDocPtr
run_stylesheet(const struct vn_xslt *x, xmlDocPtr doc,
               xsltTransformContextPtr ctxt, struct nst_buf *msgs)
{
    pthread_mutex_lock(&run_lock);
    xmlSetStructuredErrorFunc(msgs, collect_structured);
    xmlSetGenericErrorFunc(msgs, collect);
    xsltSetGenericErrorFunc(msgs, collect);
    xmlDocPtr res = xsltApplyStylesheetUser(x->style, doc, NULL, NULL, NULL,
                                            ctxt);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
    xsltSetGenericErrorFunc(NULL, NULL);
    pthread_mutex_unlock(&run_lock);
    return res;
}

/* What is wrong with a run's result, or NULL when it is a domain. */
static const char *
result_problem(xsltTransformContextPtr ctxt, xmlDocPtr res,
               struct nst_buf *msgs, bool *stopped)
{
    /* libxslt stops a run for xsl:message terminate='yes', whose text is
     * the message, and for an error such as an infinite recursion, which
     * comes with a runtime error locator: its first line is the message. */
    if (ctxt->state == XSLT_STATE_STOPPED && !runtime_error(msgs)) {
        *stopped = true;
        return "the stylesheet stopped (xsl:message terminate='yes')";
    }
    if (!res || ctxt->state != XSLT_STATE_OK)
        return "the stylesheet failed";
    if (!is_domain(res)) {
        xmlNodePtr root = xmlDocGetRootElement(res);
        free(nst_buf_finish(msgs, NULL));
        *msgs = (struct nst_buf){ 0 };
        nst_buf_addf(msgs, "the result is not a libvirt domain (%s%s%s)",
                     root ? "its root is <" : "no root element",
                     root ? (const char *)root->name : "", root ? ">" : "");
        return "the result is not a libvirt domain";
    }
    return NULL;
}

int
vn_xslt_apply(const struct vn_xslt *x, const char *text, size_t len,
              char **out, size_t *out_len, char **err)
{
    struct nst_buf msgs = { 0 };
    xsltTransformContextPtr ctxt = NULL;
    xmlDocPtr doc = NULL, res = NULL;
    xmlChar *result = NULL;
    int result_len = 0;
    char *detail = NULL;
    const char *what = NULL;
    bool stopped = false;
    int ret = -1;

    *out = NULL;
    /* The engine's output: no DOCTYPE (the engine refuses one). */
    xmlSetStructuredErrorFunc(&msgs, collect_structured);
    doc = xmlReadMemory(text, (int)len, "domain.xml", NULL, XML_PARSE_NONET);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (!doc) {
        what = "cannot read the document to transform";
    } else if ((ctxt = new_context(x, doc, &msgs, &what))) {
        res = run_stylesheet(x, doc, ctxt, &msgs);
        what = result_problem(ctxt, res, &msgs, &stopped);
    }
    if (!what && (xsltSaveResultToString(&result, &result_len, res,
                                         x->style) < 0 || !result))
        what = "cannot serialise the result";
    if (what)
        goto out;
    /* The messages of a run that succeeded are xsl:message output. */
    detail = mask_detail(text, len, one_line(&msgs, "", true));
    msgs = (struct nst_buf){ 0 };
    if (detail && *detail)
        vn_warning("%s: %s", x->path, detail);
    if (!(*out = malloc((size_t)result_len + 1))) {
        what = "out of memory";
        goto out;
    }
    memcpy(*out, result, (size_t)result_len);
    (*out)[result_len] = '\0';
    *out_len = (size_t)result_len;
    ret = 0;

 out:
    if (what) {
        free(detail);
        detail = mask_detail(text, len, one_line(&msgs, what, stopped));
        nst_set_error(err, "%s: %s", x->path, detail ? detail : what);
    } else {
        free(nst_buf_finish(&msgs, NULL));
    }
    free(detail);
    xmlFree(result);
    xmlFreeDoc(res);
    if (ctxt)
        xsltFreeTransformContext(ctxt);
    xmlFreeDoc(doc);
    return ret;
}

/* ------------------------------------------------------- comparison */

static bool
blank(const xmlChar *text)
{
    for (; text && *text; text++)
        if (*text != ' ' && *text != '\t' && *text != '\n' && *text != '\r')
            return false;
    return true;
}

/* Removes indentation: whitespace-only text among element children. */
static void
strip_indentation(xmlNodePtr node)
{
    bool element_content = false;

    for (xmlNodePtr c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            element_content = true;
    for (xmlNodePtr c = node->children, next; c; c = next) {
        next = c->next;
        if (c->type == XML_ELEMENT_NODE) {
            strip_indentation(c);
        } else if (element_content && c->type == XML_TEXT_NODE &&
                   blank(c->content)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
}

char *
vn_xml_canonical(const char *text, size_t len, size_t *out_len)
{
    xmlDocPtr doc = xmlReadMemory(text, (int)len, "canonical.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    xmlChar *c14n = NULL;
    char *copy = NULL;
    int n;

    if (!doc)
        return NULL;
    strip_indentation((xmlNodePtr)doc);
    n = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 1, &c14n);
    if (n >= 0 && (copy = malloc((size_t)n + 1))) {
        memcpy(copy, c14n, (size_t)n);
        copy[n] = '\0';
        *out_len = (size_t)n;
    }
    xmlFree(c14n);
    xmlFreeDoc(doc);
    return copy;
}

int
vn_xml_same(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t clen = 0, dlen = 0;
    char *c = vn_xml_canonical(a, alen, &clen);
    char *d = c ? vn_xml_canonical(b, blen, &dlen) : NULL;
    int ret = c && d ? clen == dlen && memcmp(c, d, clen) == 0 : -1;
    free(c);
    free(d);
    return ret;
}
