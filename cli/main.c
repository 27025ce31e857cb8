/*
 * main.c: virt-nestify's command table
 *
 * "virt-nestify COMMAND ..." runs a command; anything else (options
 * first) is the default command, apply.
 *
 * Built twice.  In virt-nestify-live (VN_LIVE_PROGRAM) the commands get
 * vn_connected, the parts that need libvirt.  virt-nestify links no
 * libvirt: a run that needs a connection is handed over to
 * virt-nestify-live (handoff.c) here, before anything is parsed, built
 * or read, and that program does the whole run once.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "host-doctor.h"
#include "options.h"
#include "tool.h"

#ifdef VN_LIVE_PROGRAM
static const struct vn_connected *const live = &vn_connected;
#else
static const struct vn_connected *const live = NULL;
#endif

enum {
    /* Always runs on a connection: virt-nestify hands it over. */
    NEEDS_LIBVIRT = 1,
    /* Runs on a connection when its options say so (vn_options_connect:
     * apply --domain/--all/-c..., lint --domain/--all, host -c). */
    OPTIONS_CONNECT = 2,
};

struct command {
    const char *name;
    enum vn_cmd options;         /* its options in options.c */
    int (*run)(int argc, char **argv);
    unsigned int flags;
};

static int
cmd_apply(int argc, char **argv)
{
    return vn_cmd_apply(argc, argv, live);
}

static int
cmd_host(int argc, char **argv)
{
    return vn_host_main(argc, argv, live ? live->host_libvirt : NULL,
                        live ? live->host_pins : NULL);
}

static int
cmd_lint(int argc, char **argv)
{
    return vn_cmd_lint(argc, argv, live);
}

/* Reached in virt-nestify-live only (NEEDS_LIBVIRT). */
static int
cmd_rollback(int argc, char **argv)
{
    return live ? live->rollback(argc, argv) : vn_not_connected(NULL);
}

static int
cmd_verify(int argc, char **argv)
{
    return live ? live->verify(argc, argv) : vn_not_connected(NULL);
}

static int
cmd_map(int argc, char **argv)
{
    return vn_cmd_map(argc, argv, live);
}

static const struct command commands[] = {
    { "apply", VN_CMD_APPLY, cmd_apply, OPTIONS_CONNECT },
    { "host", VN_CMD_HOST, cmd_host, OPTIONS_CONNECT },
    { "lint", VN_CMD_LINT, cmd_lint, OPTIONS_CONNECT },
    { "map", VN_CMD_MAP, cmd_map, OPTIONS_CONNECT },
    { "profiles", VN_CMD_PROFILES, vn_cmd_profiles, 0 },
    { "rollback", VN_CMD_ROLLBACK, cmd_rollback, NEEDS_LIBVIRT },
    { "verify", VN_CMD_VERIFY, cmd_verify, NEEDS_LIBVIRT },
};

/*
 * A command whose output could not be written has failed, whatever it
 * returns (a full disk, EIO): as git's run_builtin, stdout is checked
 * once the command is done.  Commands that met the error themselves
 * already said so and returned VN_EXIT_SYSTEM; this catches the rest
 * (--help, --version, profiles, host, ...).
 */
static int
check_stdout(int ret)
{
    if (ret != VN_EXIT_OK && ret != VN_EXIT_PENDING)
        return ret;
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return ret;
    vn_error("cannot write to stdout: %s",
             errno ? strerror(errno) : "write error");
    return VN_EXIT_SYSTEM;
}

/* "--list-options COMMAND": the options the table gives the command, for
 * the tests that hold the man page and the completion to it.  Not
 * documented: it is not for users. */
static int
list_options(int argc, char **argv)
{
    enum vn_cmd cmd = argc == 3 ? vn_cmd_by_name(argv[2]) : VN_CMD_LAST;
    if (cmd == VN_CMD_LAST) {
        vn_error("--list-options needs a command name");
        return VN_EXIT_INPUT;
    }
    vn_options_list(cmd, stdout);
    return check_stdout(VN_EXIT_OK);
}

int
main(int argc, char **argv)
{
    int ret;

    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        puts("virt-nestify " PACKAGE_VERSION);
        return check_stdout(VN_EXIT_OK);
    }
    if (argc > 1 && strcmp(argv[1], "--list-options") == 0)
        return list_options(argc, argv);
    const struct command *cmd = &commands[0];
    int shift = 0;
    for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(*commands);
         i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cmd = &commands[i];
            shift = 1;
        }
    }
#ifndef VN_LIVE_PROGRAM
    if ((cmd->flags & NEEDS_LIBVIRT) ||
        ((cmd->flags & OPTIONS_CONNECT) &&
         vn_options_connect(cmd->options, argc - shift, argv + shift)))
        return vn_handoff(argv);
#endif
    xmlInitParser();
    ret = cmd->run(argc - shift, argv + shift);
    xmlCleanupParser();
#ifndef VN_LIVE_PROGRAM
    if (ret == VN_EXIT_HANDOFF)
        return vn_handoff(argv);
#endif
    ret = check_stdout(ret);
    return ret;
}
