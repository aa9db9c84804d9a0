// The real dicomd with its default plugins, spoken to over HTTP.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "http_client.h"
#include "server_process.h"

using namespace dicomd::test;

namespace {

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  EXPECT_FALSE(d.HasParseError()) << body;
  return d;
}

const rapidjson::Value* find_plugin(const rapidjson::Document& d, const std::string& name) {
  for (const auto& p : d["plugins"].GetArray())
    if (name == p["name"].GetString()) return &p;
  return nullptr;
}

}  // namespace

TEST(CorePlugins, HealthAndPluginsListTheDefaultPlugins) {
  TempDir dir;
  ServerProcess server({"--data", (dir / "data").string()});  // default plugin dir: found with no flag
  auto health = request(server.port(), "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.header("content-type"), "application/json");
  auto h = parse(health.body);
  EXPECT_TRUE(h["success"].GetBool());
  EXPECT_EQ(h["plugins"].Size(), 9u);

  auto plugins = request(server.port(), "GET", "/plugins");
  ASSERT_EQ(plugins.status, 200);
  auto d = parse(plugins.body);
  EXPECT_EQ(std::string(d["abiVersion"].GetString()), "1.9");
  for (const char* name : {"validator-gdcm", "metadata-gdcm", "render-png"}) {
    const auto* p = find_plugin(d, name);
    ASSERT_TRUE(p) << name;
    EXPECT_TRUE((*p)["enabled"].GetBool());
    EXPECT_STREQ((*p)["abiVersion"].GetString(), "1.9");
    EXPECT_FALSE(std::string((*p)["version"].GetString()).empty());
    EXPECT_EQ((*p)["provides"].Size(), 1u);
    EXPECT_GE((*p)["routes"].Size(), 1u);
  }
  // The storage provides a service and mounts no route; the files plugin
  // mounts the original API's file routes on it.
  const auto* storage = find_plugin(d, "storage-fs");
  ASSERT_TRUE(storage);
  EXPECT_STREQ((*storage)["provides"][0]["name"].GetString(), "dicomd.storage");
  EXPECT_EQ((*storage)["routes"].Size(), 0u);
  const auto* files = find_plugin(d, "files");
  ASSERT_TRUE(files);
  EXPECT_EQ((*files)["routes"].Size(), 7u);
  EXPECT_STREQ((*files)["requires"][0]["boundTo"].GetString(), "storage-fs");
  const auto* index = find_plugin(d, "index-sqlite");
  ASSERT_TRUE(index);
  EXPECT_STREQ((*index)["provides"][0]["name"].GetString(), "dicomd.index");
  const auto* search = find_plugin(d, "search");
  ASSERT_TRUE(search);
  EXPECT_STREQ((*search)["routes"][0]["path"].GetString(), "/search");
  EXPECT_STREQ((*search)["requires"][0]["boundTo"].GetString(), "index-sqlite");
  const auto* render = find_plugin(d, "render-png");
  EXPECT_STREQ((*render)["routes"][0]["path"].GetString(), "/files/:study/:file/png");
  EXPECT_STREQ((*render)["requires"][0]["boundTo"].GetString(), "storage-fs");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

// jobs renders its frames through render-png: it goes with it. dicomweb
// stays, without its rendered images.
TEST(CorePlugins, DisablingRenderPngRemovesOnlyItsRoute) {
  TempDir dir;
  ServerProcess server({"--data", (dir / "data").string(), "--disable", "render-png", "--disable", "jobs"});
  auto png = request(server.port(), "GET", "/files/s/f/png");
  EXPECT_EQ(png.status, 404);
  EXPECT_EQ(png.body, R"({"error":"not found","success":false})");
  // The other plugins' routes are still mounted: their own answers, not the router's 404.
  EXPECT_EQ(request(server.port(), "GET", "/files/s/f/tag?tag=Rows").body,
            R"({"error":"file not found","success":false})");
  EXPECT_EQ(request(server.port(), "GET", "/files").status, 200);
  auto d = parse(request(server.port(), "GET", "/plugins").body);
  const auto* render = find_plugin(d, "render-png");
  ASSERT_TRUE(render);
  EXPECT_FALSE((*render)["enabled"].GetBool());
  EXPECT_EQ(parse(request(server.port(), "GET", "/health").body)["plugins"].Size(), 7u);
  auto rendered = request(server.port(), "GET", "/dicom-web/studies/1.2/series/1.3/instances/1.4/rendered");
  EXPECT_EQ(rendered.status, 503);
  EXPECT_NE(rendered.body.find("render-png"), std::string::npos);
  EXPECT_EQ(request(server.port(), "GET", "/dicom-web/studies").status, 200);
}

TEST(CorePlugins, UnknownRouteAndWrongMethod) {
  TempDir dir;
  ServerProcess server({"--data", (dir / "data").string()});
  auto r = request(server.port(), "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  auto m = request(server.port(), "PUT", "/files");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.header("allow"), "GET");
  EXPECT_EQ(m.header("x-content-type-options"), "nosniff");
}
