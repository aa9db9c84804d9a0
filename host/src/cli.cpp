#include "cli.h"

namespace dicomd {

std::string usage() {
  return "usage: dicomd [options]           serve\n"
         "       dicomd reindex [options]   rebuild the search index from the storage, then exit\n"
         "                                  (the server must not be running on the data folder)\n"
         "       dicomd import --from DIR [options]\n"
         "                                  copy the files of a storage-fs folder (DIR/<study>/<file>,\n"
         "                                  their uploaders too) into the configured storage, which\n"
         "                                  indexes them; files already there are left; then exit\n"
         "       dicomd --check-config FILE [options]\n"
         "                                  load the plugins of FILE, check every plugin's config,\n"
         "                                  print what would be served; exit 0 (good) or 1\n"
         "       dicomd token --key-file F --role R --sub NAME [--ttl SECONDS]\n"
         "                                  print an HS256 token for auth-jwt (R: read-only, standard\n"
         "                                  or admin; F readable by its owner only; ttl default 3600)\n"
         "  --config FILE        JSON configuration (default: built-in, the core plugins and search)\n"
         "  --listen HOST:PORT   address to listen on (default 127.0.0.1:8080)\n"
         "  --data DIR           folder for all server state (default ./data)\n"
         "  --plugin-dir DIR     where plugins NAME.so are (default: ../lib/dicomd/plugins\n"
         "                       next to the executable)\n"
         "  --disable NAME       do not load plugin NAME (repeatable)\n"
         "  --log-level LEVEL    error, warn, info or debug\n"
         "  --log-format FORMAT  text or json (one object per line)\n"
         "  --log-file FILE      append the log to FILE (reopened on SIGHUP), not stderr\n"
         "  --allow-remote-root  allow running as root on a non-loopback address\n"
         "  --help               this text\n"
         "  --version            print the version\n";
}

CliOptions parse_cli(int argc, char** argv) {
  CliOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw ConfigError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h")
      o.help = true;
    else if (arg == "--version")
      o.version = true;
    else if (arg == "--config")
      o.config_file = value();
    else if (arg == "--listen")
      o.listen = value();
    else if (arg == "--data")
      o.data_dir = value();
    else if (arg == "--plugin-dir")
      o.plugin_dir = value();
    else if (arg == "--log-level")
      o.log_level = value();
    else if (arg == "--log-format")
      o.log_format = value();
    else if (arg == "--log-file")
      o.log_file = value();
    else if (i == 1 && arg == "--check-config") {
      o.command = "check-config";
      o.config_file = value();
    } else if (arg == "--allow-remote-root")
      o.allow_remote_root = true;
    else if (arg == "--disable")
      o.disable.push_back(value());
    else if (i == 1 && (arg == "reindex" || arg == "token" || arg == "import"))
      o.command = arg;
    else if (o.command == "import" && arg == "--from")
      o.import_from = value();
    else if (o.command == "token" && arg == "--key-file")
      o.key_file = value();
    else if (o.command == "token" && arg == "--role")
      o.role = value();
    else if (o.command == "token" && arg == "--sub")
      o.subject = value();
    else if (o.command == "token" && arg == "--ttl") {
      std::string ttl = value();
      size_t used = 0;
      try {
        o.ttl_s = std::stoll(ttl, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != ttl.size()) throw ConfigError("--ttl needs a whole number of seconds");
    } else
      throw ConfigError("unknown option " + arg + " (see --help)");
  }
  return o;
}

Config effective_config(const CliOptions& cli) {
  Config c = cli.config_file ? load_config_file(*cli.config_file) : default_config();
  if (cli.listen) parse_listen(*cli.listen, c.host, c.port);
  if (cli.data_dir) c.data_dir = *cli.data_dir;
  if (cli.plugin_dir) c.plugin_dir = *cli.plugin_dir;
  if (cli.log_level) c.log_level = *cli.log_level;
  if (cli.log_format) c.log_format = *cli.log_format;
  if (cli.log_file) c.log_file = *cli.log_file;
  if (cli.allow_remote_root) c.allow_remote_root = true;
  for (const std::string& name : cli.disable) {
    bool found = false;
    for (PluginEntry& e : c.plugins)
      if (e.name == name) {
        e.enabled = false;
        found = true;
      }
    if (!found) throw ConfigError("--disable " + name + ": no such plugin in the configuration");
  }
  return c;
}

}  // namespace dicomd
