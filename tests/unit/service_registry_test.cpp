#include "plugins/service_registry.h"

#include <gtest/gtest.h>

#include <list>

using dicomd::LoadedPlugin;
using dicomd::PluginError;
using dicomd::resolve_services;

namespace {

// Builds plugins with fake descriptors; nothing is dlopen'ed.
class Fixture {
 public:
  LoadedPlugin* add(const std::string& name, std::vector<dicomd_service_ref> provides,
                    std::vector<dicomd_service_ref> requires_list, std::map<std::string, std::string> bind = {}) {
    auto& refs = refs_.emplace_back();
    refs.first = std::move(provides);
    refs.second = std::move(requires_list);
    auto& d = descriptors_.emplace_back();
    d.struct_size = sizeof d;
    d.name = names_.emplace_back(name).c_str();
    d.provides = refs.first.data();
    d.provides_count = refs.first.size();
    d.requires_ = refs.second.data();
    d.requires_count = refs.second.size();
    auto& p = plugins_.emplace_back(std::make_unique<LoadedPlugin>());
    p->name = name;
    p->descriptor = &d;
    p->entry.bind = std::move(bind);
    all_.push_back(p.get());
    return p.get();
  }
  std::vector<LoadedPlugin*>& all() { return all_; }

 private:
  std::list<std::pair<std::vector<dicomd_service_ref>, std::vector<dicomd_service_ref>>> refs_;
  std::list<dicomd_plugin_descriptor> descriptors_;
  std::list<std::string> names_;
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::vector<LoadedPlugin*> all_;
};

const dicomd_service_ref kStorage{"dicomd.storage", 1, 0};
const dicomd_service_ref kValidatorOptional{"dicomd.validator", 1, 1};

std::string error_of(Fixture& f, std::map<std::string, std::string> bind = {}) {
  try {
    resolve_services(f.all(), bind);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ServiceRegistry, ProvidersComeBeforeConsumers) {
  Fixture f;
  auto* render = f.add("render-png", {}, {kStorage});
  auto* storage = f.add("storage-fs", {kStorage}, {kValidatorOptional});
  auto order = resolve_services(f.all(), {});
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], storage);
  EXPECT_EQ(order[1], render);
  EXPECT_EQ(render->bound.at("dicomd.storage@1"), storage);
  EXPECT_FALSE(storage->bound.count("dicomd.validator@1"));  // optional and absent
}

TEST(ServiceRegistry, MissingRequiredServiceNamesPluginAndService) {
  Fixture f;
  f.add("render-png", {}, {kStorage});
  std::string e = error_of(f);
  EXPECT_NE(e.find("plugin 'render-png'"), std::string::npos) << e;
  EXPECT_NE(e.find("dicomd.storage v1"), std::string::npos) << e;
}

TEST(ServiceRegistry, MajorVersionMustMatch) {
  Fixture f;
  f.add("old-storage", {{"dicomd.storage", 2, 0}}, {});
  f.add("render-png", {}, {kStorage});
  EXPECT_NE(error_of(f).find("no enabled plugin provides"), std::string::npos);
}

TEST(ServiceRegistry, TwoProvidersNeedABind) {
  Fixture f;
  f.add("storage-fs", {kStorage}, {});
  f.add("storage-s3", {kStorage}, {});
  f.add("render-png", {}, {kStorage});
  std::string e = error_of(f);
  EXPECT_NE(e.find("'storage-fs' and 'storage-s3'"), std::string::npos) << e;
  EXPECT_NE(e.find("bind"), std::string::npos) << e;
}

TEST(ServiceRegistry, TwoProvidersWithoutConsumersStillNeedABind) {
  Fixture f;
  f.add("storage-fs", {kStorage}, {});
  f.add("storage-s3", {kStorage}, {});
  EXPECT_NE(error_of(f).find("both provide dicomd.storage"), std::string::npos);
}

TEST(ServiceRegistry, GlobalAndPerPluginBindsChoose) {
  Fixture f;
  auto* fs = f.add("storage-fs", {kStorage}, {});
  auto* s3 = f.add("storage-s3", {kStorage}, {});
  auto* render = f.add("render-png", {}, {kStorage}, {{"dicomd.storage", "storage-s3"}});
  auto* meta = f.add("metadata-gdcm", {}, {kStorage});
  resolve_services(f.all(), {{"dicomd.storage", "storage-fs"}});
  EXPECT_EQ(render->bound.at("dicomd.storage@1"), s3);
  EXPECT_EQ(meta->bound.at("dicomd.storage@1"), fs);
}

TEST(ServiceRegistry, BindToANonProviderIsAnError) {
  Fixture f;
  f.add("storage-fs", {kStorage}, {});
  f.add("render-png", {}, {kStorage}, {{"dicomd.storage", "ghost"}});
  EXPECT_NE(error_of(f).find("'ghost'"), std::string::npos);
}

TEST(ServiceRegistry, CyclesAreReported) {
  Fixture f;
  f.add("a", {{"svc.a", 1, 0}}, {{"svc.b", 1, 0}});
  f.add("b", {{"svc.b", 1, 0}}, {{"svc.a", 1, 0}});
  EXPECT_NE(error_of(f).find("cycle"), std::string::npos);
}
