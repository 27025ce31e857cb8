/*
 * xmledit.c: formatting-preserving edits of a domain document
 *
 * How the bytes are kept: after libxml2 has parsed (and so checked) the
 * input, a small scanner walks the same bytes and records, for every
 * node of the <domain> tree in document order, where its bytes start
 * and end (struct span, hung on node->_private).  Edits set flags on the
 * span of the node they touch and of its ancestors.  The serialiser
 * copies the bytes of every node whose subtree is untouched and writes
 * the rest; nodes created by a rule have no span and are always written.
 *
 * This file parses, maps the spans and serialises; xmledit-edit.c reads
 * and edits the tree, xmledit-secrets.c masks what libvirt hides.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "xmledit-doc.h"

const char *const nst_order_domain[] = {
    "name", "uuid", "genid", "title", "description", "metadata",
    "maxMemory", "memory", "currentMemory", "blkiotune", "memtune",
    "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids",
    "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
    "bootloader", "bootloader_args", "os", "idmap", "features", "cpu",
    "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm",
    "perf", "devices", "seclabel", "keywrap", "launchSecurity", NULL
};
const char *const nst_order_cpu[] = {
    "model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa",
    NULL
};
const char *const nst_order_cputune[] = {
    "shares", "period", "quota", "global_period", "global_quota",
    "emulator_period", "emulator_quota", "iothread_period", "iothread_quota",
    "vcpupin", "emulatorpin", "iothreadpin", "vcpusched", "iothreadsched",
    "emulatorsched", "cachetune", "memorytune", NULL
};
const char *const nst_order_numatune[] = { "memory", "memnode", NULL };
const char *const nst_order_memory_backing[] = {
    "hugepages", "nosharepages", "locked", "source", "access", "allocation",
    "discard", NULL
};
const char *const nst_order_memtune[] = {
    "hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit", NULL
};
/* virDomainFeature's order, in which libvirt formats <features>. */
const char *const nst_order_features[] = {
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm",
    "pvspinlock", "capabilities", "pmu", "vmport", "gic", "smm", "ioapic",
    "hpt", "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist", "xen",
    "cfpc", "sbbc", "ibs", "tcg", "async-teardown", NULL
};
/* virDomainHyperv's order, in which libvirt formats <hyperv>. */
const char *const nst_order_hyperv[] = {
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
    "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",
    "evmcs", "avic", "emsr_bitmap", "xmm_input", NULL
};
/* <clock>'s timers stay in the order given: a new one goes last. */
const char *const nst_order_clock[] = { "timer", NULL };
/* virDomainDefFormat's order of the device kinds. */
const char *const nst_order_devices[] = {
    "emulator", "disk", "controller", "lease", "filesystem", "interface",
    "smartcard", "serial", "parallel", "console", "channel", "input", "tpm",
    "graphics", "sound", "audio", "video", "hostdev", "redirdev",
    "redirfilter", "hub", "watchdog", "memballoon", "rng", "panic", "shmem",
    "memory", "iommu", "vsock", "crypto", NULL
};
/* virDomainDiskDefFormat: <driver> first, then the source. */
const char *const nst_order_disk[] = {
    "driver", "source", "backingStore", "backenddomain", "geometry",
    "blockio", "target", NULL
};
/* The attributes of a disk's <driver>, as libvirt 9.0 writes them. */
const char *const nst_order_disk_driver[] = {
    "name", "type", "cache", "error_policy", "rerror_policy", "io",
    "ioeventfd", "event_idx", "copy_on_read", "discard", "iothread",
    "detect_zeroes", "queues", "queue_size", "iommu", "ats", "packed",
    "page_per_vq", NULL
};
const char *const nst_order_controller[] = { "model", "driver", "target",
                                             NULL };
const char *const nst_order_controller_driver[] = {
    "queues", "cmd_per_lun", "max_sectors", "ioeventfd", "iothread",
    "iommu", "ats", "packed", "page_per_vq", NULL
};
/* virDomainNetDefFormat: <driver> right after <model>. */
const char *const nst_order_interface[] = {
    "mac", "source", "vlan", "virtualport", "ip", "route", "script",
    "downscript", "backenddomain", "target", "guest", "model", "driver",
    NULL
};
const char *const nst_order_interface_driver[] = {
    "name", "txmode", "ioeventfd", "event_idx", "queues", "rx_queue_size",
    "tx_queue_size", "rss", "rss_hash_report", "iommu", "ats", "packed",
    "page_per_vq", NULL
};

/* ------------------------------------------------------------- scanning */

enum token_kind { TOK_START, TOK_END, TOK_TEXT, TOK_COMMENT, TOK_CDATA,
                  TOK_PI };

struct token {
    enum token_kind kind;
    size_t start, end, open_end;
    bool empty_tag;
};

struct scanner {
    const char *text;
    size_t len;
    size_t pos;
};

static bool
starts_with(const struct scanner *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s->len - s->pos >= n && memcmp(s->text + s->pos, prefix, n) == 0;
}

/* Moves past the next occurrence of end; false when there is none. */
static bool
skip_past(struct scanner *s, const char *end)
{
    size_t n = strlen(end);
    while (s->len - s->pos >= n) {
        if (memcmp(s->text + s->pos, end, n) == 0) {
            s->pos += n;
            return true;
        }
        s->pos++;
    }
    return false;
}

/*
 * Reads the next token.  Returns false at the end of the text or on
 * bytes libxml2 would not have accepted (which cannot happen for a
 * document it parsed; the caller then reports an internal error).
 */
static bool
scan_token(struct scanner *s, struct token *tok)
{
    if (s->pos >= s->len)
        return false;
    tok->start = s->pos;
    tok->empty_tag = false;
    if (s->text[s->pos] != '<') {
        while (s->pos < s->len && s->text[s->pos] != '<')
            s->pos++;
        tok->kind = TOK_TEXT;
    } else if (starts_with(s, "<!--")) {
        tok->kind = TOK_COMMENT;
        if (!skip_past(s, "-->"))
            return false;
    } else if (starts_with(s, "<![CDATA[")) {
        tok->kind = TOK_CDATA;
        if (!skip_past(s, "]]>"))
            return false;
    } else if (starts_with(s, "<?")) {
        tok->kind = TOK_PI;
        if (!skip_past(s, "?>"))
            return false;
    } else if (starts_with(s, "<!")) {
        return false;   /* DOCTYPE: refused before we get here */
    } else {
        bool end_tag = starts_with(s, "</");
        char quote = 0;
        s->pos++;
        while (s->pos < s->len) {
            char c = s->text[s->pos];
            if (quote) {
                if (c == quote)
                    quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '>') {
                break;
            }
            s->pos++;
        }
        if (s->pos >= s->len)
            return false;
        tok->open_end = s->pos;
        if (!end_tag && s->text[s->pos - 1] == '/') {
            tok->empty_tag = true;
            tok->open_end = s->pos - 1;
        }
        s->pos++;
        tok->kind = end_tag ? TOK_END : TOK_START;
    }
    tok->end = s->pos;
    return true;
}

/*
 * Gives node and its subtree their spans, consuming tokens.  Returns -1
 * when the tokens do not match the tree.
 */
static int
map_node(struct nst_doc *doc, struct scanner *s, xmlNodePtr node)
{
    struct token tok;
    enum token_kind want;

    switch (node->type) {
    case XML_ELEMENT_NODE: want = TOK_START; break;
    case XML_TEXT_NODE: want = TOK_TEXT; break;
    case XML_COMMENT_NODE: want = TOK_COMMENT; break;
    case XML_CDATA_SECTION_NODE: want = TOK_CDATA; break;
    case XML_PI_NODE: want = TOK_PI; break;
    default: return -1;
    }
    if (!scan_token(s, &tok) || tok.kind != want)
        return -1;

    struct span *span = &doc->spans[doc->nspans++];
    span->start = tok.start;
    span->end = tok.end;
    span->open_end = tok.open_end;
    span->empty_tag = tok.empty_tag;
    span->close_start = 0;
    span->flags = 0;
    node->_private = span;
    if (node->type != XML_ELEMENT_NODE || tok.empty_tag)
        return 0;

    for (xmlNodePtr child = node->children; child; child = child->next)
        if (map_node(doc, s, child) < 0)
            return -1;
    size_t close = s->pos;
    if (!scan_token(s, &tok) || tok.kind != TOK_END)
        return -1;
    span->close_start = close;
    span->end = tok.end;
    return 0;
}

static size_t
count_nodes(const xmlNode *node)
{
    size_t n = 1;
    for (const xmlNode *child = node->children; child; child = child->next)
        n += count_nodes(child);
    return n;
}

/* Maps the whole <domain> tree; the root is the first start tag. */
static int
map_document(struct nst_doc *doc)
{
    struct scanner s = { doc->text, doc->len, 0 };
    struct token tok;

    doc->spans = calloc(count_nodes(doc->root), sizeof(*doc->spans));
    if (!doc->spans)
        return -1;
    /* Skip the prolog (declaration, comments, whitespace). */
    for (;;) {
        size_t before = s.pos;
        if (!scan_token(&s, &tok))
            return -1;
        if (tok.kind == TOK_START) {
            s.pos = before;
            break;
        }
    }
    if (map_node(doc, &s, doc->root) < 0)
        return -1;
    const char *q = memchr(doc->text + doc->spans[0].start, '=',
                           doc->spans[0].open_end - doc->spans[0].start);
    doc->quote = '\'';
    if (q) {
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == '"')
            doc->quote = '"';
    }
    return 0;
}

/* -------------------------------------------------------------- parsing */

/* What the parser hooks saw; lives in ctxt->_private. */
struct parse_state {
    bool doctype;
    bool failed;
    int line;
    char *message;      /* first error libxml2 reported, or NULL */
};

/*
 * A DOCTYPE is where entities (and so external files and entity
 * expansion bombs) come from, and libvirt never writes one.  Stopping the
 * parser as soon as the DOCTYPE name is read means no entity declaration
 * is ever parsed, let alone loaded or expanded.
 */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
               const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *state = ctxt->_private;

    state->doctype = true;
    xmlStopParser(ctxt);
}

/*
 * Keeps the first error: later ones are usually consequences of it
 * ("premature end of data" after a tag mismatch).  Having our own
 * structured handler also means libxml2 never falls back to printing on
 * stderr or to a process-wide handler.
 */
static void
record_error(void *ctx, xmlErrorPtr error)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct parse_state *state = ctxt->_private;

    if (!error || error->level < XML_ERR_ERROR || state->failed)
        return;
    state->failed = true;
    state->line = error->line;
    if (!error->message)
        return;
    /* one line: drop the trailing newline, fold any inner ones */
    size_t len = strlen(error->message);
    while (len && (error->message[len - 1] == '\n' ||
                   error->message[len - 1] == ' '))
        len--;
    state->message = nst_printf("%.*s", (int)len, error->message);
    for (char *p = state->message; p && *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

xmlDocPtr
nsti_xml_parse(const char *text, size_t len, bool *doctype, char **err)
{
    struct parse_state state = { 0 };
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;

    *doctype = false;
    if (len > INT32_MAX) {
        nst_set_error(err, "larger than 2 GiB");
        return NULL;
    }
    if (!(ctxt = xmlNewParserCtxt())) {
        nst_set_error(err, "out of memory");
        return NULL;
    }
    ctxt->_private = &state;
    ctxt->sax->internalSubset = refuse_doctype;
    ctxt->sax->serror = record_error;
    /* No NOENT, no DTDLOAD, no NOBLANKS: nothing fetched, nothing
     * expanded, every whitespace node kept. */
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    xmlFreeParserCtxt(ctxt);
    if (state.doctype || !doc || state.failed) {
        *doctype = state.doctype;
        if (state.line > 0)
            nst_set_error(err, "line %d: %s", state.line,
                          state.message ? state.message : "invalid XML");
        else
            nst_set_error(err, "%s",
                          state.message ? state.message : "invalid XML");
        free(state.message);
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    free(state.message);
    return doc;
}

int
nst_doc_parse(const char *text, size_t len, const char *label,
              struct nst_doc **out, char **err)
{
    struct nst_doc *doc = NULL;
    *out = NULL;
    if (len >= 2 && (((unsigned char)text[0] == 0xFE &&
                      (unsigned char)text[1] == 0xFF) ||
                     ((unsigned char)text[0] == 0xFF &&
                      (unsigned char)text[1] == 0xFE))) {
        nst_set_error(err, "%s: UTF-16 is not supported, use UTF-8", label);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        nst_set_error(err, "%s: contains a NUL byte", label);
        return -1;
    }
    if (len > INT32_MAX) {
        nst_set_error(err, "%s: too large", label);
        return -1;
    }

    doc = calloc(1, sizeof(*doc));
    if (!doc || !(doc->text = malloc(len + 1)))
        goto oom;
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    doc->len = len;

    bool doctype;
    char *why = NULL;
    doc->xml = nsti_xml_parse(text, len, &doctype, &why);
    if (!doc->xml) {
        if (doctype)
            nst_set_error(err, "%s: a DOCTYPE is not allowed in domain XML "
                          "(entities are never expanded)", label);
        else
            nst_set_error(err, "%s: %s", label, why ? why : "out of memory");
        free(why);
        goto error;
    }
    doc->root = xmlDocGetRootElement(doc->xml);
    if (!doc->root) {
        nst_set_error(err, "%s: empty document", label);
        goto error;
    }
    if (strcmp((const char *)doc->root->name, "domain") != 0 ||
        doc->root->ns) {
        nst_set_error(err, "%s: root element is <%s>, expected <domain>",
                      label, doc->root->name);
        goto error;
    }
    if (map_document(doc) < 0) {
        nst_set_error(err, "%s: cannot map the document's bytes", label);
        goto error;
    }
    xmlNodePtr name = nsti_child(doc->root, "name");
    xmlNodePtr uuid = nsti_child(doc->root, "uuid");
    if ((name && !(doc->name = nsti_text(name))) ||
        (uuid && !(doc->uuid = nsti_text(uuid))))
        goto oom;
    *out = doc;
    return 0;

 oom:
    nst_set_error(err, "%s: out of memory", label);
 error:
    nst_doc_free(doc);
    return -1;
}

void
nst_doc_free(struct nst_doc *doc)
{
    if (!doc)
        return;
    if (doc->xml)
        xmlFreeDoc(doc->xml);
    free(doc->spans);
    free(doc->text);
    free(doc->name);
    free(doc->uuid);
    free(doc);
}

xmlNodePtr
nsti_doc_root(const struct nst_doc *doc)
{
    return doc->root;
}

const char *
nst_doc_domain_name(const struct nst_doc *doc)
{
    return doc->name;
}

const char *
nst_doc_domain_uuid(const struct nst_doc *doc)
{
    return doc->uuid;
}

/* ---------------------------------------------------------- serialising */

static void
add_escaped(struct nst_buf *buf, const char *text, bool attr)
{
    for (const char *c = text; *c; c++) {
        switch (*c) {
        case '&': nst_buf_adds(buf, "&amp;"); break;
        case '<': nst_buf_adds(buf, "&lt;"); break;
        case '>': nst_buf_adds(buf, "&gt;"); break;
        case '\'': nst_buf_adds(buf, attr ? "&apos;" : "'"); break;
        case '"': nst_buf_adds(buf, attr ? "&quot;" : "\""); break;
        case '\n': nst_buf_adds(buf, attr ? "&#10;" : "\n"); break;
        case '\r': nst_buf_adds(buf, "&#13;"); break;
        case '\t': nst_buf_adds(buf, attr ? "&#9;" : "\t"); break;
        default: nst_buf_add(buf, c, 1);
        }
    }
}

/* The element's name as its tags spell it: "x:cpu" or "cpu".  Start and
 * end tag both take it from here, so they always match. */
static void
add_tag_name(struct nst_buf *buf, const xmlNode *node)
{
    if (node->ns && node->ns->prefix)
        nst_buf_addf(buf, "%s:", (const char *)node->ns->prefix);
    nst_buf_adds(buf, (const char *)node->name);
}

/* "<name a='1' b='2'" with the document's quote character. */
static void
add_open_tag(const struct nst_doc *doc, struct nst_buf *buf,
             const xmlNode *node)
{
    char q = doc->quote;

    nst_buf_adds(buf, "<");
    add_tag_name(buf, node);
    /* A new element in no namespace under one in a default namespace
     * would land in that namespace when read back: undeclare it. */
    const xmlNs *dflt = node->_private || node->ns || !node->parent ? NULL :
        xmlSearchNs(doc->xml, node->parent, NULL);
    if (dflt && dflt->href && *dflt->href)
        nst_buf_addf(buf, " xmlns=%c%c", q, q);
    for (const xmlNs *ns = node->nsDef; ns; ns = ns->next) {
        nst_buf_adds(buf, " xmlns");
        if (ns->prefix)
            nst_buf_addf(buf, ":%s", (const char *)ns->prefix);
        nst_buf_addf(buf, "=%c", q);
        add_escaped(buf, (const char *)ns->href, true);
        nst_buf_add(buf, &q, 1);
    }
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        nst_buf_adds(buf, " ");
        if (a->ns && a->ns->prefix)
            nst_buf_addf(buf, "%s:", (const char *)a->ns->prefix);
        nst_buf_addf(buf, "%s=%c", (const char *)a->name, q);
        xmlChar *value = xmlNodeGetContent((const xmlNode *)a);
        add_escaped(buf, value ? (const char *)value : "", true);
        xmlFree(value);
        nst_buf_add(buf, &q, 1);
    }
}

static void
emit(const struct nst_doc *doc, struct nst_buf *buf, const xmlNode *node)
{
    const struct span *span = node->_private;

    if (span && !span->flags) {
        nst_buf_add(buf, doc->text + span->start, span->end - span->start);
        return;
    }
    switch (node->type) {
    case XML_ELEMENT_NODE:
        break;
    case XML_TEXT_NODE:
        add_escaped(buf, (const char *)node->content, false);
        return;
    case XML_COMMENT_NODE:
        nst_buf_addf(buf, "<!--%s-->", (const char *)node->content);
        return;
    default:
        return;   /* rules create nothing else */
    }

    /* Start tag: the original bytes unless the attributes changed. */
    if (span && !(span->flags & SPAN_ATTRS)) {
        size_t end = span->open_end;
        if (span->empty_tag)   /* "<cpu a='1' />" loses its " " too */
            while (end > span->start && (doc->text[end - 1] == ' ' ||
                                         doc->text[end - 1] == '\t'))
                end--;
        nst_buf_add(buf, doc->text + span->start, end - span->start);
    } else {
        add_open_tag(doc, buf, node);
    }
    if (!node->children) {
        nst_buf_adds(buf, "/>");
        return;
    }
    nst_buf_adds(buf, ">");
    for (const xmlNode *c = node->children; c; c = c->next)
        emit(doc, buf, c);
    if (span && !span->empty_tag)
        nst_buf_add(buf, doc->text + span->close_start,
                    span->end - span->close_start);
    else {
        nst_buf_adds(buf, "</");
        add_tag_name(buf, node);
        nst_buf_adds(buf, ">");
    }
}

char *
nst_doc_serialize(const struct nst_doc *doc, size_t *len)
{
    struct nst_buf buf = { 0 };
    const struct span *root = doc->root->_private;

    nst_buf_add(&buf, doc->text, root->start);
    emit(doc, &buf, doc->root);
    nst_buf_add(&buf, doc->text + root->end, doc->len - root->end);
    return nst_buf_finish(&buf, len);
}
