/*
 * agent.c: the QEMU guest agent's protocol (see agent.h); no libvirt
 *
 * The JSON parser is a plain recursive descent over what RFC 8259
 * allows.  It only has to read the agent's replies, which are small and
 * machine-written, but it must never trust them: every length is
 * checked, nesting is bounded, and malformed input is an error with the
 * byte offset, never a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "internal.h"

/* ------------------------------------------------------------------ JSON */

#define JSON_MAX_DEPTH 64

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    char *error;                 /* first error */
};

static void
fail_at(struct parser *p, const char *what)
{
    if (!p->error)
        p->error = nst_printf("invalid JSON at byte %zu: %s", p->pos, what);
}

static void
skip_space(struct parser *p)
{
    while (p->pos < p->len && (p->text[p->pos] == ' ' ||
                               p->text[p->pos] == '\t' ||
                               p->text[p->pos] == '\n' ||
                               p->text[p->pos] == '\r'))
        p->pos++;
}

static struct vn_json *
new_value(struct parser *p, enum vn_json_type type)
{
    struct vn_json *v = calloc(1, sizeof(*v));
    if (!v)
        fail_at(p, "out of memory");
    else
        v->type = type;
    return v;
}

static bool
match_word(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int
hex4(struct parser *p, unsigned int *out)
{
    *out = 0;
    if (p->len - p->pos < 4) {
        fail_at(p, "truncated \\u escape");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        char c = p->text[p->pos++];
        unsigned int d = c >= '0' && c <= '9' ? (unsigned int)(c - '0') :
                         c >= 'a' && c <= 'f' ? (unsigned int)(c - 'a' + 10) :
                         c >= 'A' && c <= 'F' ? (unsigned int)(c - 'A' + 10) :
                         16;
        if (d == 16) {
            fail_at(p, "bad \\u escape");
            return -1;
        }
        *out = *out * 16 + d;
    }
    return 0;
}

static void
add_utf8(struct nst_buf *buf, unsigned int cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    nst_buf_add(buf, out, n);
}

/* A string at p->pos (the opening quote); returns a new string. */
static char *
parse_string(struct parser *p)
{
    struct nst_buf buf = { 0 };

    p->pos++;                    /* the quote */
    nst_buf_adds(&buf, "");      /* "" is a string too */
    for (;;) {
        if (p->pos >= p->len) {
            fail_at(p, "unterminated string");
            goto fail;
        }
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            fail_at(p, "control character in string");
            goto fail;
        }
        if (c != '\\') {
            size_t start = p->pos;
            while (p->pos < p->len && p->text[p->pos] != '"' &&
                   p->text[p->pos] != '\\' &&
                   (unsigned char)p->text[p->pos] >= 0x20)
                p->pos++;
            nst_buf_add(&buf, p->text + start, p->pos - start);
            continue;
        }
        if (++p->pos >= p->len) {
            fail_at(p, "unterminated string");
            goto fail;
        }
        char e = p->text[p->pos++];
        unsigned int cp, low;
        switch (e) {
        case '"': nst_buf_adds(&buf, "\""); break;
        case '\\': nst_buf_adds(&buf, "\\"); break;
        case '/': nst_buf_adds(&buf, "/"); break;
        case 'b': nst_buf_adds(&buf, "\b"); break;
        case 'f': nst_buf_adds(&buf, "\f"); break;
        case 'n': nst_buf_adds(&buf, "\n"); break;
        case 'r': nst_buf_adds(&buf, "\r"); break;
        case 't': nst_buf_adds(&buf, "\t"); break;
        case 'u':
            if (hex4(p, &cp) < 0)
                goto fail;
            if (cp >= 0xd800 && cp < 0xdc00) {
                /* A surrogate pair: the low half must follow. */
                if (!match_word(p, "\\u") || hex4(p, &low) < 0 ||
                    low < 0xdc00 || low >= 0xe000) {
                    fail_at(p, "unpaired surrogate");
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                fail_at(p, "unpaired surrogate");
                goto fail;
            } else if (cp == 0) {
                fail_at(p, "NUL in string");
                goto fail;
            }
            add_utf8(&buf, cp);
            break;
        default:
            p->pos--;
            fail_at(p, "bad escape");
            goto fail;
        }
    }
    char *s = nst_buf_finish(&buf, NULL);
    if (!s)
        fail_at(p, "out of memory");
    return s;

 fail:
    free(nst_buf_finish(&buf, NULL));
    return NULL;
}

/* A number: the grammar strictly; whole numbers within long long are
 * kept as such, the rest only as "a number". */
static struct vn_json *
parse_number(struct parser *p)
{
    size_t start = p->pos;
    bool whole = true;

    if (p->pos < p->len && p->text[p->pos] == '-')
        p->pos++;
    if (p->pos < p->len && p->text[p->pos] == '0') {
        p->pos++;
    } else if (p->pos < p->len && p->text[p->pos] >= '1' &&
               p->text[p->pos] <= '9') {
        while (p->pos < p->len && p->text[p->pos] >= '0' &&
               p->text[p->pos] <= '9')
            p->pos++;
    } else {
        fail_at(p, "bad number");
        return NULL;
    }
    if (p->pos < p->len && p->text[p->pos] == '.') {
        whole = false;
        p->pos++;
        if (p->pos >= p->len || p->text[p->pos] < '0' ||
            p->text[p->pos] > '9') {
            fail_at(p, "bad number");
            return NULL;
        }
        while (p->pos < p->len && p->text[p->pos] >= '0' &&
               p->text[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < p->len && (p->text[p->pos] == 'e' ||
                            p->text[p->pos] == 'E')) {
        whole = false;
        p->pos++;
        if (p->pos < p->len && (p->text[p->pos] == '+' ||
                                p->text[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || p->text[p->pos] < '0' ||
            p->text[p->pos] > '9') {
            fail_at(p, "bad number");
            return NULL;
        }
        while (p->pos < p->len && p->text[p->pos] >= '0' &&
               p->text[p->pos] <= '9')
            p->pos++;
    }
    struct vn_json *v = new_value(p, VN_JSON_NUMBER);
    if (v && whole && p->pos - start < 32) {
        char digits[32];
        memcpy(digits, p->text + start, p->pos - start);
        digits[p->pos - start] = '\0';
        errno = 0;
        char *end;
        long long n = strtoll(digits, &end, 10);
        if (errno == 0 && *end == '\0') {
            v->integer = true;
            v->number = n;
        }
    }
    return v;
}

static struct vn_json *parse_value(struct parser *p, unsigned int depth);

static int
push_item(struct parser *p, struct vn_json *v, char *key,
          struct vn_json *item)
{
    struct vn_json **items = realloc(v->items, (v->n + 1) * sizeof(*items));
    if (items)
        v->items = items;
    char **keys = NULL;
    if (items && v->type == VN_JSON_OBJECT &&
        (keys = realloc(v->keys, (v->n + 1) * sizeof(*keys))))
        v->keys = keys;
    if (!items || (v->type == VN_JSON_OBJECT && !keys)) {
        fail_at(p, "out of memory");
        free(key);
        vn_json_free(item);
        return -1;
    }
    if (v->type == VN_JSON_OBJECT)
        v->keys[v->n] = key;
    v->items[v->n++] = item;
    return 0;
}

/* An array or object at p->pos (its opening bracket). */
static struct vn_json *
parse_container(struct parser *p, unsigned int depth)
{
    bool object = p->text[p->pos] == '{';
    char close = object ? '}' : ']';
    struct vn_json *v = new_value(p, object ? VN_JSON_OBJECT : VN_JSON_ARRAY);

    if (!v)
        return NULL;
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->text[p->pos] == close) {
        p->pos++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_space(p);
        if (object) {
            if (p->pos >= p->len || p->text[p->pos] != '"') {
                fail_at(p, "expected a member name");
                goto fail;
            }
            if (!(key = parse_string(p)))
                goto fail;
            skip_space(p);
            if (p->pos >= p->len || p->text[p->pos] != ':') {
                free(key);
                fail_at(p, "expected ':'");
                goto fail;
            }
            p->pos++;
        }
        struct vn_json *item = parse_value(p, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        if (push_item(p, v, key, item) < 0)
            goto fail;
        skip_space(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == close) {
            p->pos++;
            return v;
        }
        fail_at(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
 fail:
    vn_json_free(v);
    return NULL;
}

static struct vn_json *
parse_value(struct parser *p, unsigned int depth)
{
    struct vn_json *v;

    if (depth > JSON_MAX_DEPTH) {
        fail_at(p, "nested too deep");
        return NULL;
    }
    skip_space(p);
    if (p->pos >= p->len) {
        fail_at(p, "unexpected end");
        return NULL;
    }
    switch (p->text[p->pos]) {
    case '{':
    case '[':
        return parse_container(p, depth);
    case '"':
        if (!(v = new_value(p, VN_JSON_STRING)))
            return NULL;
        if (!(v->string = parse_string(p))) {
            free(v);
            return NULL;
        }
        return v;
    case 't':
    case 'f': {
        bool truth = p->text[p->pos] == 't';
        if (match_word(p, truth ? "true" : "false")) {
            if ((v = new_value(p, VN_JSON_BOOL)))
                v->boolean = truth;
            return v;
        }
        break;
    }
    case 'n':
        if (match_word(p, "null"))
            return new_value(p, VN_JSON_NULL);
        break;
    default:
        if (p->text[p->pos] == '-' ||
            (p->text[p->pos] >= '0' && p->text[p->pos] <= '9'))
            return parse_number(p);
    }
    fail_at(p, "unexpected character");
    return NULL;
}

struct vn_json *
vn_json_parse(const char *text, size_t len, char **err)
{
    struct parser p = { .text = text, .len = len };
    struct vn_json *v = text ? parse_value(&p, 0) : NULL;

    if (!text)
        p.error = nst_printf("invalid JSON: no text");
    if (v) {
        skip_space(&p);
        if (p.pos != p.len) {
            fail_at(&p, "junk after the document");
            vn_json_free(v);
            v = NULL;
        }
    }
    if (!v)
        nst_set_error(err, "%s", p.error ? p.error : "out of memory");
    free(p.error);
    return v;
}

void
vn_json_free(struct vn_json *value)
{
    if (!value)
        return;
    for (size_t i = 0; i < value->n; i++) {
        vn_json_free(value->items[i]);
        if (value->keys)
            free(value->keys[i]);
    }
    free(value->items);
    free(value->keys);
    free(value->string);
    free(value);
}

const struct vn_json *
vn_json_get(const struct vn_json *value, const char *key)
{
    const struct vn_json *found = NULL;
    if (!value || value->type != VN_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < value->n; i++)
        if (strcmp(value->keys[i], key) == 0)
            found = value->items[i];
    return found;
}

/* ------------------------------------------------------------- requests */

char *
vn_agent_ping_request(void)
{
    return nst_printf("{\"execute\":\"guest-ping\"}");
}

char *
vn_agent_exec_request(const char *path, const char *const *args,
                      size_t nargs)
{
    struct nst_buf buf = { 0 };

    nst_buf_adds(&buf, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":");
    nst_buf_add_json(&buf, path);
    nst_buf_adds(&buf, ",\"arg\":[");
    for (size_t i = 0; i < nargs; i++) {
        if (i)
            nst_buf_adds(&buf, ",");
        nst_buf_add_json(&buf, args[i]);
    }
    nst_buf_adds(&buf, "],\"capture-output\":true}}");
    return nst_buf_finish(&buf, NULL);
}

char *
vn_agent_exec_status_request(long long pid)
{
    return nst_printf("{\"execute\":\"guest-exec-status\","
                      "\"arguments\":{\"pid\":%lld}}", pid);
}

/* --------------------------------------------------------------- replies */

int
vn_agent_parse_return(const char *reply, const char *command,
                      struct vn_json **ret, const struct vn_json **value,
                      char **err)
{
    char *why = NULL;
    struct vn_json *doc;

    *ret = NULL;
    *value = NULL;
    if (!reply) {
        nst_set_error(err, "no reply to '%s'", command);
        return -1;
    }
    if (!(doc = vn_json_parse(reply, strlen(reply), &why))) {
        nst_set_error(err, "the reply to '%s' is not JSON (%s)", command, why);
        free(why);
        return -1;
    }
    const struct vn_json *error = vn_json_get(doc, "error");
    const struct vn_json *val = vn_json_get(doc, "return");
    if (doc->type != VN_JSON_OBJECT) {
        nst_set_error(err, "the reply to '%s' is not a JSON object", command);
    } else if (error) {
        const struct vn_json *desc = vn_json_get(error, "desc");
        const struct vn_json *cls = vn_json_get(error, "class");
        nst_set_error(err, "the guest agent refused '%s': %s%s%s%s", command,
                      desc && desc->type == VN_JSON_STRING ? desc->string :
                      "no reason given",
                      cls && cls->type == VN_JSON_STRING ? " (" : "",
                      cls && cls->type == VN_JSON_STRING ? cls->string : "",
                      cls && cls->type == VN_JSON_STRING ? ")" : "");
    } else if (!val) {
        nst_set_error(err, "the reply to '%s' has no \"return\"", command);
    } else {
        *ret = doc;
        *value = val;
        return 0;
    }
    vn_json_free(doc);
    return -1;
}

int
vn_agent_parse_exec(const char *reply, long long *pid, char **err)
{
    struct vn_json *doc;
    const struct vn_json *val, *p;

    if (vn_agent_parse_return(reply, "guest-exec", &doc, &val, err) < 0)
        return -1;
    p = vn_json_get(val, "pid");
    int ret = -1;
    if (!p)
        nst_set_error(err, "the reply to 'guest-exec' has no \"pid\"");
    else if (p->type != VN_JSON_NUMBER || !p->integer || p->number < 0)
        nst_set_error(err, "the reply to 'guest-exec' has a \"pid\" that is "
                      "not a process id");
    else {
        *pid = p->number;
        ret = 0;
    }
    vn_json_free(doc);
    return ret;
}

/* Reads an optional boolean member; -1 (with *err) on a wrong type. */
static int
get_bool(const struct vn_json *obj, const char *key, bool *out, char **err)
{
    const struct vn_json *v = vn_json_get(obj, key);
    *out = false;
    if (!v)
        return 0;
    if (v->type != VN_JSON_BOOL) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not true or false", key);
        return -1;
    }
    *out = v->boolean;
    return 0;
}

/* Reads an optional integer member into an int. */
static int
get_int(const struct vn_json *obj, const char *key, bool *has, int *out,
        char **err)
{
    const struct vn_json *v = vn_json_get(obj, key);
    *has = false;
    *out = 0;
    if (!v)
        return 0;
    if (v->type != VN_JSON_NUMBER || !v->integer || v->number < INT32_MIN ||
        v->number > INT32_MAX) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not a whole number", key);
        return -1;
    }
    *has = true;
    *out = (int)v->number;
    return 0;
}

/* Decodes an optional base64 member. */
static int
get_data(const struct vn_json *obj, const char *key, char **out,
         size_t *out_len, char **err)
{
    const struct vn_json *v = vn_json_get(obj, key);
    char *why = NULL;
    if (!v)
        return 0;
    if (v->type != VN_JSON_STRING) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not a string", key);
        return -1;
    }
    if (vn_base64_decode(v->string, strlen(v->string), out, out_len,
                         &why) < 0) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a bad "
                      "\"%s\": %s", key, why);
        free(why);
        return -1;
    }
    return 0;
}

int
vn_agent_parse_exec_status(const char *reply,
                           struct vn_agent_exec_status *st, char **err)
{
    struct vn_json *doc;
    const struct vn_json *val, *exited;
    int ret = -1;

    memset(st, 0, sizeof(*st));
    if (vn_agent_parse_return(reply, "guest-exec-status", &doc, &val,
                              err) < 0)
        return -1;
    if (val->type != VN_JSON_OBJECT) {
        nst_set_error(err, "the reply to 'guest-exec-status' is not an "
                      "object");
        goto out;
    }
    if (!(exited = vn_json_get(val, "exited"))) {
        nst_set_error(err, "the reply to 'guest-exec-status' has no "
                      "\"exited\"");
        goto out;
    }
    if (get_bool(val, "exited", &st->exited, err) < 0)
        goto out;
    if (!st->exited) {
        ret = 0;
        goto out;
    }
    if (get_int(val, "exitcode", &st->has_exitcode, &st->exitcode, err) < 0 ||
        get_int(val, "signal", &st->has_signal, &st->signal, err) < 0 ||
        get_bool(val, "out-truncated", &st->out_truncated, err) < 0 ||
        get_bool(val, "err-truncated", &st->err_truncated, err) < 0 ||
        get_data(val, "out-data", &st->out, &st->out_len, err) < 0 ||
        get_data(val, "err-data", &st->err, &st->err_len, err) < 0)
        goto out;
    if (!st->has_exitcode && !st->has_signal) {
        nst_set_error(err, "the reply to 'guest-exec-status' says the "
                      "process exited but has neither \"exitcode\" nor "
                      "\"signal\"");
        goto out;
    }
    ret = 0;
 out:
    vn_json_free(doc);
    return ret;
}

void
vn_agent_exec_status_clear(struct vn_agent_exec_status *st)
{
    free(st->out);
    free(st->err);
    memset(st, 0, sizeof(*st));
}

static int
b64_value(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' :
           c >= 'a' && c <= 'z' ? c - 'a' + 26 :
           c >= '0' && c <= '9' ? c - '0' + 52 :
           c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
vn_base64_decode(const char *in, size_t len, char **out, size_t *out_len,
                 char **err)
{
    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0) {
        nst_set_error(err, "truncated base64 (%zu characters, not a "
                      "multiple of 4)", len);
        return -1;
    }
    char *buf = malloc(len / 4 * 3 + 1);
    size_t n = 0;
    if (!buf) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && last && k >= 2) {
                /* Padding: only at the end, then nothing but padding. */
                v[k] = 0;
                pad++;
                continue;
            }
            v[k] = pad ? -1 : b64_value(c);
            if (v[k] < 0) {
                nst_set_error(err, "invalid base64 at character %zu",
                              i + k);
                free(buf);
                return -1;
            }
        }
        unsigned int bits = (unsigned int)v[0] << 18 |
                            (unsigned int)v[1] << 12 |
                            (unsigned int)v[2] << 6 | (unsigned int)v[3];
        buf[n++] = (char)(bits >> 16);
        if (pad < 2)
            buf[n++] = (char)(bits >> 8 & 0xff);
        if (pad < 1)
            buf[n++] = (char)(bits & 0xff);
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}

/* ----------------------------------------------------------- guest files */

int
vn_nested_param_parse(const char *text, size_t len)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len != 1)
        return -1;
    return text[0] == 'Y' || text[0] == '1' ? 1 :
           text[0] == 'N' || text[0] == '0' ? 0 : -1;
}
