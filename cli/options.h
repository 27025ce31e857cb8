/*
 * options.h: every command's options, in one table (options.c)
 *
 * Each option is defined once (struct vn_option: its long name, letter,
 * argument, default help text, how its value is checked, and whether it
 * asks for a libvirt connection).  Each command then lists the options it
 * takes (struct vn_opt_use: where in the command's options struct the
 * value goes, and its --help line where the command words it otherwise)
 * and the combinations it refuses (struct vn_opt_rule).  From that one
 * table come getopt_long's tables, every --help text, the checks of
 * combinations, the scan main.c makes before handing a run over to
 * virt-nestify-live, and "virt-nestify --list-options CMD", which the
 * tests hold the man page and the bash completion to.
 */
#ifndef NESTIFY_OPTIONS_H
#define NESTIFY_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

/* The commands, in main.c's table. */
enum vn_cmd {
    VN_CMD_APPLY,
    VN_CMD_HOST,
    VN_CMD_LINT,
    VN_CMD_PROFILES,
    VN_CMD_ROLLBACK,
    VN_CMD_VERIFY,
    VN_CMD_MAP,
    VN_CMD_LAST
};

/* Every option of every command.  Two options may share a long name
 * when they mean different things (apply's --timeout waits for a
 * shutdown, verify's for the guest agent). */
enum vn_opt {
    VN_OPT_DOMAIN, VN_OPT_ALL, VN_OPT_STATE, VN_OPT_MATCH, VN_OPT_EXCLUDE,
    VN_OPT_FAIL_FAST, VN_OPT_OVERCOMMIT, VN_OPT_PARALLEL, VN_OPT_COLOR,
    VN_OPT_CONNECT, VN_OPT_JOBS, VN_OPT_BACKUP_DIR, VN_OPT_RESTART,
    VN_OPT_TIMEOUT, VN_OPT_FORCE, VN_OPT_FILE, VN_OPT_HOST_CAPS,
    VN_OPT_DOMCAPS, VN_OPT_CPU_MAP, VN_OPT_PROFILE, VN_OPT_PROFILE_FILE,
    VN_OPT_SET, VN_OPT_TAKEN, VN_OPT_STRICT, VN_OPT_XSLT, VN_OPT_XSLT_PARAM,
    VN_OPT_DRY_RUN, VN_OPT_CHECK, VN_OPT_IN_PLACE, VN_OPT_OUTPUT,
    VN_OPT_QUIET, VN_OPT_HELP,
    VN_OPT_AGENT_TIMEOUT,        /* verify --timeout */
    VN_OPT_ROOT, VN_OPT_ENABLE, VN_OPT_RELOAD, VN_OPT_HUGEPAGES,
    VN_OPT_NODE, VN_OPT_PERSIST,
    VN_OPT_ISOLATE,              /* host --isolate */
    VN_OPT_LIST, VN_OPT_BACKUP,
    VN_OPT_MAP_OUTPUT,           /* map --output text|json|svg */
    VN_OPT_MAP,                  /* apply --map */
    VN_OPT_LAST
};

/* What the command line gave, option by option: how many times, and
 * the last argument.  The rules are checked on this alone, so main.c
 * can check them without parsing values. */
struct vn_given {
    unsigned int count[VN_OPT_LAST];
    const char *last[VN_OPT_LAST];
    int optind;                  /* the first operand (profiles NAME) */
};

/*
 * Parses cmd's options from argv (argv[0] is the command's name) into
 * opts, the command's options struct (struct vn_apply_opts for apply,
 * vn_lint_opts, vn_verify_opts, vn_host_opts, vn_rollback_opts; profiles
 * takes none: NULL), and what was given into *given.  Values are checked
 * as they are read, with one error line each; the combinations are not
 * (vn_options_check).  Returns 0, 1 after printing --help, or -1 after
 * saying what is wrong (an unknown option or a bad value).
 */
int vn_options_parse(enum vn_cmd cmd, int argc, char **argv, void *opts,
                     struct vn_given *given);
/* The command's rules, in order: says what the first broken one says
 * and returns -1, else 0. */
int vn_options_check(enum vn_cmd cmd, const struct vn_given *given);
/* vn_options_parse then vn_options_check. */
int vn_options_parse_checked(enum vn_cmd cmd, int argc, char **argv,
                             void *opts, struct vn_given *given);

/*
 * Whether argv asks cmd for a libvirt connection: one of its options
 * that select a connected run is given, every option is known and takes
 * its argument, no rule is broken and --help is not asked for.  Values
 * are not looked at and nothing is printed: a run this says no to is
 * parsed (and refused, when it is wrong) where it is.
 */
bool vn_options_connect(enum vn_cmd cmd, int argc, char **argv);

/* cmd's --help text. */
void vn_options_usage(enum vn_cmd cmd, FILE *fp);
/* One line per option cmd takes: "[-x ]--name[ ARG]" (the tests
 * compare these with the man page and the completion). */
void vn_options_list(enum vn_cmd cmd, FILE *fp);
/* The command named name, or VN_CMD_LAST. */
enum vn_cmd vn_cmd_by_name(const char *name);

#endif /* NESTIFY_OPTIONS_H */
