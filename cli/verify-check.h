/*
 * verify-check.h: what the parts of the verify command share (private to
 * cmd-verify.c, the command and its live XML checks, and verify-guest.c,
 * the checks inside the guest through the QEMU guest agent).
 */
#ifndef NESTIFY_VERIFY_CHECK_H
#define NESTIFY_VERIFY_CHECK_H

#include <stdbool.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libxml/tree.h>

#include "verify.h"

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_SKIP, CHECK_LAST };

/* The checks, in the order they are printed. */
enum check_id {
    LIVE_CPU_MODE,
    LIVE_CPU_FEATURE,
    LIVE_VCPU_PINS,
    LIVE_OTHER,
    GUEST_AGENT,
    GUEST_CPU_FLAGS,
    GUEST_KVM_DEVICE,
    GUEST_KVM_NESTED,
    CHECK_ID_LAST
};

struct check {
    enum check_result result;
    char *message;               /* one line */
    char *fix;                   /* FAIL only: what to do, or NULL */
};

/* What one verify run works with. */
struct verify {
    const struct vn_verify_opts *o;
    const struct nst_profile *profile;
    virDomainPtr dom;
    const char *name;
    const struct nst_host *host;
    xmlDocPtr live;              /* the live XML, parsed */
    struct check checks[CHECK_ID_LAST];
    bool system_failure;         /* libvirt failed under a check */
    struct timespec deadline;    /* for the guest agent, monotonic */
};

/* Sets check id's result and its one-line message. */
void vn_check(struct verify *v, enum check_id id, enum check_result result,
              const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets check id's fix: what to do when it fails. */
void vn_fix(struct verify *v, enum check_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An XPath string of the live XML: a new string, "" when absent. */
char *vn_verify_live_string(const struct verify *v, const char *expr);
/* " -c URI" when one was given (in buf), for the commands of a fix. */
const char *vn_verify_connect_arg(const struct verify *v, char *buf,
                                  size_t size);
/* The guest checks, through the guest agent within --timeout. */
void vn_verify_guest(struct verify *v);

#endif /* NESTIFY_VERIFY_CHECK_H */
