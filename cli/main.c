/*
 * main.c: virt-nestify's command table
 *
 * "virt-nestify COMMAND ..." runs a command; anything else (options
 * first) is the default command, apply.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "host-doctor.h"
#include "tool.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

/* The host doctor.  Its libvirt check (-c) is host-libvirt.c's in
 * virt-nestify-live and handoff.c's exec of virt-nestify-live in
 * virt-nestify. */
static int
cmd_host(int argc, char **argv)
{
    return vn_host_main(argc, argv, vn_doctor_libvirt_check);
}

static const struct command commands[] = {
    { "apply", vn_cmd_apply },
    { "host", cmd_host },
    { "lint", vn_cmd_lint },
    { "profiles", vn_cmd_profiles },
    { "rollback", vn_cmd_rollback },
    { "verify", vn_cmd_verify },
};

char **vn_argv;

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

int
main(int argc, char **argv)
{
    int ret;

    vn_argv = argv;
    xmlInitParser();
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        puts("virt-nestify " PACKAGE_VERSION);
        return check_stdout(VN_EXIT_OK);
    }
    const struct command *cmd = &commands[0];
    int shift = 0;
    for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(*commands);
         i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cmd = &commands[i];
            shift = 1;
        }
    }
    ret = check_stdout(cmd->run(argc - shift, argv + shift));
    xmlCleanupParser();
    return ret;
}
