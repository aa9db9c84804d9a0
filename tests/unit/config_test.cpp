#include "cli.h"
#include "config.h"

#include <gtest/gtest.h>

using dicomd::ConfigError;
using dicomd::parse_config;

TEST(Config, DefaultHasTheCorePluginsSearchJobsAndDicomWeb) {
  auto c = dicomd::default_config();
  ASSERT_EQ(c.plugins.size(), 9u);
  EXPECT_EQ(c.plugins[0].name, "storage-fs");
  EXPECT_EQ(c.plugins[1].name, "files");
  EXPECT_EQ(c.plugins[5].name, "index-sqlite");
  EXPECT_EQ(c.plugins[6].name, "search");
  EXPECT_EQ(c.plugins[7].name, "jobs");
  EXPECT_EQ(c.plugins[8].name, "dicomweb");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.data_dir, "./data");
}

TEST(Config, ParsesEveryKey) {
  auto c = parse_config(R"({"listen":"[::1]:9000","threads":3,"max_body_mb":10,"data":"/srv/d",
    "plugin_dir":"/p","bind":{"dicomd.storage":"storage-fs"},"isolation":{"workers":3,"timeout_ms":500},
    "plugins":[{"name":"storage-fs","config":{"root":"x","n":[1,2]}},{"name":"render-png","enabled":false,
    "bind":{"dicomd.storage":"storage-fs"}}]})");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.max_body_mb, 10u);
  EXPECT_EQ(c.data_dir, "/srv/d");
  EXPECT_EQ(c.isolation.workers, 3u);
  EXPECT_EQ(c.isolation.timeout_ms, 500u);
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.plugins[0].config_json, R"({"root":"x","n":[1,2]})");
  EXPECT_FALSE(c.plugins[1].enabled);
  EXPECT_EQ(c.plugins[1].bind.at("dicomd.storage"), "storage-fs");
}

TEST(Config, RejectsMistakesClearly) {
  EXPECT_THROW(parse_config("{"), ConfigError);
  EXPECT_THROW(parse_config(R"({"listn":"x"})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"listen":"127.0.0.1"})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"listen":"h:70000"})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"threads":0})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"reactor_threads":65})"), ConfigError);
  EXPECT_EQ(parse_config(R"({"reactor_threads":0})").reactor_threads, 0u);  // 0: half the cores
  EXPECT_THROW(parse_config(R"({"plugins":[{"name":"a"},{"name":"a"}]})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"plugins":[{"name":"../evil"}]})"), ConfigError);
  EXPECT_THROW(parse_config(R"({"plugins":[{"name":"a","config":[]}]})"), ConfigError);
  try {
    parse_config(R"({"plugins":[{"name":"a","enable":false}]})");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("enable"), std::string::npos);
  }
}

TEST(Config, ClientLimits) {
  dicomd::Config c = parse_config(R"({"max_connections":10,"max_connections_per_client":2,"max_pipelined_kb":8,)"
                                  R"("write_timeout_ms":500,"min_send_rate_kbps":1,"min_body_rate_kbps":4})");
  EXPECT_EQ(c.max_connections, 10u);
  EXPECT_EQ(c.max_connections_per_client, 2u);
  EXPECT_EQ(c.max_pipelined_kb, 8u);
  EXPECT_EQ(c.write_timeout_ms, 500u);
  EXPECT_EQ(c.min_send_rate_kbps, 1u);
  EXPECT_EQ(c.min_body_rate_kbps, 4u);
  dicomd::Config d = dicomd::default_config();
  EXPECT_EQ(d.max_connections_per_client, 64u);
  EXPECT_EQ(d.max_pipelined_kb, 64u);
  for (const char* bad :
       {R"({"max_connections":0})", R"({"max_connections_per_client":-1})", R"({"max_pipelined_kb":0})",
        R"({"write_timeout_ms":99})", R"({"min_send_rate_kbps":0})", R"({"min_body_rate_kbps":"16"})"})
    EXPECT_THROW(parse_config(bad), ConfigError) << bad;
}

TEST(Cli, OverridesAndDisable) {
  const char* argv[] = {"dicomd", "--listen", "127.0.0.1:0", "--data", "/d", "--disable", "render-png"};
  auto cli = dicomd::parse_cli(7, const_cast<char**>(argv));
  auto c = dicomd::effective_config(cli);
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.plugins[4].name, "render-png");
  EXPECT_FALSE(c.plugins[4].enabled);
  EXPECT_TRUE(c.plugins[0].enabled);
}

TEST(Cli, UnknownOptionAndUnknownDisable) {
  const char* bad[] = {"dicomd", "--frobnicate"};
  EXPECT_THROW(dicomd::parse_cli(2, const_cast<char**>(bad)), ConfigError);
  const char* missing[] = {"dicomd", "--config"};
  EXPECT_THROW(dicomd::parse_cli(2, const_cast<char**>(missing)), ConfigError);
  const char* ghost[] = {"dicomd", "--disable", "ghost"};
  auto cli = dicomd::parse_cli(3, const_cast<char**>(ghost));
  EXPECT_THROW(dicomd::effective_config(cli), ConfigError);
}
