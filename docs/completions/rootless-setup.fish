# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rootless_setup_global_optspecs
    string join \n color= h/help V/version
end

function __fish_rootless_setup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rootless_setup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rootless_setup_using_subcommand
    set -l cmd (__fish_rootless_setup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "check" -d 'Check that this host and user are ready for a rootless container engine'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "install" -d 'Install a rootless engine (Docker unless --engine or the configuration says podman or containerd) as a systemd user service for the current user'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "status" -d 'Show the installed rootless engine: unit, socket, server, context, environment, linger'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "uninstall" -d 'Remove the rootless engine that `install` set up, exactly as recorded'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "enter" -d 'Run a command inside your running rootless engine\'s namespaces'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "fix" -d 'Print the root script that fixes what `check` finds, for this distribution and user'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "explain" -d 'Explain one check: what it establishes, how it probes, why it matters, and the fix per distribution family'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "render" -d 'Print the systemd user unit and drop-in that `install` would write, without installing'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "generate" -d 'Generate the man page or shell completions into a directory'
complete -c rootless-setup -n "__fish_rootless_setup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l engine -d 'The engine to check for' -r -f -a "docker\t'Rootless Docker'
podman\t'Rootless Podman (its user socket serves the Docker API)'
containerd\t'Rootless containerd (nerdctl)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l user -d 'As root: act for this user (an ordinary login user): the command runs as NAME, with NAME\'s environment, exactly as if NAME had run it (see docs/admin.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l format -d 'Output format; `json` is documented in docs/json.md and versioned' -r -f -a "human\t'Grouped, aligned text for people'
json\t'One JSON document (schema in docs/json.md)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l only -d 'Run only these checks (ids or groups such as `session`; repeat or separate with commas)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l skip -d 'Do not run these checks (ids or groups; repeat or separate with commas)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l network-driver -d 'Network driver install would use (default: the best one available)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l port-driver -d 'Port driver install would use (default: fits the network driver)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l data-root -d 'The engine\'s data directory (default: ~/.local/share/docker)' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l root -d 'Read the host from this directory instead of `/` (fixture trees in tests; live probes are off)' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l strict -d 'Treat warnings as failures (exit 1)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -l no-cache -d 'Ask every program for its version, ignoring the versions remembered in ~/.cache/rootless-setup/versions.json (the answers are remembered again)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand check" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l config -d 'Read this configuration file (it must exist) instead of `$XDG_CONFIG_HOME/rootless-setup/config.toml`' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l engine -d 'The engine: docker (the default), podman or containerd (see docs/engines.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l network-driver -d 'Network driver: slirp4netns, pasta, gvisor-tap-vsock, vpnkit or lxc-user-nic' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l port-driver -d 'Port driver: builtin, slirp4netns, implicit or gvisor-tap-vsock (must fit the network driver)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l mtu -d 'MTU of the engine\'s network namespace (1280 to 65520)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l host-loopback -d 'Let containers reach the host\'s loopback addresses: true or false' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l detach-netns -d 'rootlesskit\'s --detach-netns: true or false (default: the engine\'s)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l data-root -d 'The engine\'s data directory (absolute, or starting with ~/)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l daemon-flag -d 'An extra dockerd argument, such as --daemon-flag=--log-level=warn (repeat; replaces the file\'s list)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l env -d 'An extra environment variable for the engine, NAME=VALUE (repeat)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l start-timeout -d 'Seconds systemd waits for the engine to be ready (5 to 3600; never unlimited)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l expose -d 'Docker only: also serve the API on tcp://ADDRESS:PORT (an IP address or localhost), with the TLS files of --tls-dir (see docs/remote.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l tls-dir -d 'The directory with ca.pem, server-cert.pem and server-key.pem for --expose (checked with openssl before anything is written)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l user -d 'As root: act for this user (an ordinary login user): the command runs as NAME, with NAME\'s environment, exactly as if NAME had run it (see docs/admin.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l timeout -d 'Seconds to wait for the API socket to answer once systemd reports the engine started' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l format -d 'Output format: `json` prints one result document and asks nothing' -r -f -a "human\t'Grouped, aligned text for people'
json\t'One JSON document (schema in docs/json.md)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l insecure-loopback -d 'Allow --expose without TLS, on a loopback address only (any local user can then run containers as you)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l dry-run -d 'Show the plan (a diff of every file, every D-Bus call, context and linger) and change nothing'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -s y -l yes -d 'Do not ask for confirmation (for automation). Without a terminal nothing is asked anyway'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l force -d 'Install although prerequisites fail, replace hand-edited or foreign unit files and a `rootless` context rootless-setup did not create'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l no-context -d 'Do not create or select the `rootless` docker CLI context'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -l no-linger -d 'Do not turn linger on'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -s v -l verbose -d 'Also print timings (start job, time from readiness to the first answer)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand install" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -l format -d 'Output format' -r -f -a "human\t'Grouped, aligned text for people'
json\t'One JSON document (schema in docs/json.md)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -l user -d 'As root: act for this user (an ordinary login user): the command runs as NAME, with NAME\'s environment, exactly as if NAME had run it (see docs/admin.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -l engine -d 'The engine (default: the one installed; asked for when several are)' -r -f -a "docker\t'Rootless Docker'
podman\t'Rootless Podman (its user socket serves the Docker API)'
containerd\t'Rootless containerd (nerdctl)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand status" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l user -d 'As root: act for this user (an ordinary login user): the command runs as NAME, with NAME\'s environment, exactly as if NAME had run it (see docs/admin.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l engine -d 'The engine to remove (default: the one installed; asked for when several are)' -r -f -a "docker\t'Rootless Docker'
podman\t'Rootless Podman (its user socket serves the Docker API)'
containerd\t'Rootless containerd (nerdctl)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l format -d 'Output format: `json` prints one result document and asks nothing' -r -f -a "human\t'Grouped, aligned text for people'
json\t'One JSON document (schema in docs/json.md)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l purge -d 'Also remove the engine\'s data directory (images, containers, volumes), from inside a user namespace because its files belong to your subordinate ids. Only a directory carrying the marker install put there is removed'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -l dry-run -d 'Show what would be removed and change nothing'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -s y -l yes -d 'Do not ask for confirmation. Without a terminal nothing is asked anyway'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand uninstall" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand enter" -l engine -d 'The engine whose namespaces to join (default: the one installed; asked for when several are; docker when none is recorded)' -r -f -a "docker\t'Rootless Docker'
podman\t'Rootless Podman (its user socket serves the Docker API)'
containerd\t'Rootless containerd (nerdctl)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand enter" -l user -d 'As root: act for this user (an ordinary login user): the command runs as NAME, with NAME\'s environment, exactly as if NAME had run it (see docs/admin.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand enter" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand enter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand enter" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l user -d 'Make the script for this user instead of the caller (look-up in /etc/passwd)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l format -d 'Output format of --apply: `json` prints one result document and asks nothing' -r -f -a "human\t'Grouped, aligned text for people'
json\t'One JSON document (schema in docs/json.md)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l engine -d 'The engine to check for' -r -f -a "docker\t'Rootless Docker'
podman\t'Rootless Podman (its user socket serves the Docker API)'
containerd\t'Rootless containerd (nerdctl)'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l network-driver -d 'Network driver install would use (default: the best one available)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l root -d 'Read the host from this directory instead of `/` (fixture trees in tests; live probes are off; --apply is refused)' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l apply -d 'Show the script, ask, run it with `sudo -- sh -s`, then check again and show what changed. Without a terminal to ask on, only with --yes'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -l yes -d 'With --apply: run the script without asking'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand fix" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand explain" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand explain" -l list -d 'List every check id with its title'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand explain" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l config -d 'Read this configuration file (it must exist) instead of `$XDG_CONFIG_HOME/rootless-setup/config.toml`' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l engine -d 'The engine: docker (the default), podman or containerd (see docs/engines.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l network-driver -d 'Network driver: slirp4netns, pasta, gvisor-tap-vsock, vpnkit or lxc-user-nic' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l port-driver -d 'Port driver: builtin, slirp4netns, implicit or gvisor-tap-vsock (must fit the network driver)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l mtu -d 'MTU of the engine\'s network namespace (1280 to 65520)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l host-loopback -d 'Let containers reach the host\'s loopback addresses: true or false' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l detach-netns -d 'rootlesskit\'s --detach-netns: true or false (default: the engine\'s)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l data-root -d 'The engine\'s data directory (absolute, or starting with ~/)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l daemon-flag -d 'An extra dockerd argument, such as --daemon-flag=--log-level=warn (repeat; replaces the file\'s list)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l env -d 'An extra environment variable for the engine, NAME=VALUE (repeat)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l start-timeout -d 'Seconds systemd waits for the engine to be ready (5 to 3600; never unlimited)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l expose -d 'Docker only: also serve the API on tcp://ADDRESS:PORT (an IP address or localhost), with the TLS files of --tls-dir (see docs/remote.md)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l tls-dir -d 'The directory with ca.pem, server-cert.pem and server-key.pem for --expose (checked with openssl before anything is written)' -r
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l output -d 'Write the files under this directory instead of printing them' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l root -d 'Read the host from this directory instead of `/` (fixture trees in tests; live probes are off, so versions are not known)' -r -F
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -l insecure-loopback -d 'Allow --expose without TLS, on a loopback address only (any local user can then run containers as you)'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand render" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand generate" -l color -d 'When to use colour: `auto` uses it only on a terminal and when NO_COLOR is unset' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand generate" -s V -l version -d 'Print version'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "check" -d 'Check that this host and user are ready for a rootless container engine'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "install" -d 'Install a rootless engine (Docker unless --engine or the configuration says podman or containerd) as a systemd user service for the current user'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "status" -d 'Show the installed rootless engine: unit, socket, server, context, environment, linger'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "uninstall" -d 'Remove the rootless engine that `install` set up, exactly as recorded'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "enter" -d 'Run a command inside your running rootless engine\'s namespaces'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "fix" -d 'Print the root script that fixes what `check` finds, for this distribution and user'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "explain" -d 'Explain one check: what it establishes, how it probes, why it matters, and the fix per distribution family'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "render" -d 'Print the systemd user unit and drop-in that `install` would write, without installing'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "generate" -d 'Generate the man page or shell completions into a directory'
complete -c rootless-setup -n "__fish_rootless_setup_using_subcommand help; and not __fish_seen_subcommand_from check install status uninstall enter fix explain render generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
