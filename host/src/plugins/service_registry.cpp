#include "plugins/service_registry.h"

#include <algorithm>
#include <set>

namespace dicomd {
namespace {

std::string describe(const dicomd_service_ref& s) {
  return std::string(s.name) + " v" + std::to_string(s.major);
}

std::string names(const std::vector<LoadedPlugin*>& plugins) {
  std::string out;
  for (size_t i = 0; i < plugins.size(); ++i)
    out += (i ? (i + 1 == plugins.size() ? " and '" : ", '") : "'") + plugins[i]->name + "'";
  return out;
}

using Providers = std::map<std::string, std::vector<LoadedPlugin*>>;

Providers collect_providers(const std::vector<LoadedPlugin*>& plugins) {
  Providers providers;
  for (LoadedPlugin* p : plugins) {
    const auto* d = p->descriptor;
    for (size_t i = 0; i < d->provides_count; ++i)
      providers[service_key(d->provides[i].name, d->provides[i].major)].push_back(p);
  }
  return providers;
}

LoadedPlugin* choose(LoadedPlugin* consumer, const dicomd_service_ref& need, const std::vector<LoadedPlugin*>& cands,
                     const std::map<std::string, std::string>& global_bind) {
  auto pick = [&](const std::string& wanted, const char* where) {
    for (LoadedPlugin* c : cands)
      if (c->name == wanted) return c;
    throw PluginError(consumer->name, std::string(where) + " names '" + wanted + "' for " + describe(need) +
                                          ", but no enabled plugin of that name provides it");
  };
  if (auto it = consumer->entry.bind.find(need.name); it != consumer->entry.bind.end())
    return pick(it->second, "its bind");
  if (auto it = global_bind.find(need.name); it != global_bind.end()) return pick(it->second, "the top-level bind");
  if (cands.size() == 1) return cands.front();
  throw PluginError(consumer->name, "service " + describe(need) + " is provided by " + names(cands) +
                                        "; choose one with \"bind\": {\"" + need.name + "\": \"" + cands[0]->name +
                                        "\"}");
}

void check_ambiguous_providers(const Providers& providers, const std::vector<LoadedPlugin*>& plugins,
                               const std::map<std::string, std::string>& global_bind) {
  for (const auto& [key, list] : providers) {
    if (list.size() < 2) continue;
    std::string service = key.substr(0, key.rfind('@'));
    if (global_bind.count(service)) continue;
    bool any_consumer = false, every_consumer_binds = true;
    for (LoadedPlugin* p : plugins)
      if (p->bound.count(key)) {
        any_consumer = true;
        every_consumer_binds = every_consumer_binds && p->entry.bind.count(service) > 0;
      }
    if (!any_consumer || !every_consumer_binds)
      throw PluginError(list[0]->name, "plugins " + names(list) + " both provide " + service + " v" +
                                           key.substr(key.rfind('@') + 1) + "; choose one with \"bind\": {\"" +
                                           service + "\": \"" + list[0]->name + "\"}");
  }
}

std::vector<LoadedPlugin*> dependency_order(const std::vector<LoadedPlugin*>& plugins) {
  std::vector<LoadedPlugin*> order;
  std::set<LoadedPlugin*> done;
  while (order.size() < plugins.size()) {
    bool progressed = false;
    for (LoadedPlugin* p : plugins) {
      if (done.count(p)) continue;
      bool ready =
          std::all_of(p->bound.begin(), p->bound.end(), [&](const auto& kv) { return done.count(kv.second) > 0; });
      if (!ready) continue;
      order.push_back(p);
      done.insert(p);
      progressed = true;
    }
    if (!progressed) {
      std::vector<LoadedPlugin*> stuck;
      for (LoadedPlugin* p : plugins)
        if (!done.count(p)) stuck.push_back(p);
      throw PluginError(stuck[0]->name, "plugins " + names(stuck) + " require each other's services (a cycle)");
    }
  }
  return order;
}

}  // namespace

std::vector<LoadedPlugin*> resolve_services(const std::vector<LoadedPlugin*>& plugins,
                                            const std::map<std::string, std::string>& global_bind) {
  Providers providers = collect_providers(plugins);
  for (LoadedPlugin* p : plugins) {
    const auto* d = p->descriptor;
    for (size_t i = 0; i < d->requires_count; ++i) {
      const dicomd_service_ref& need = d->requires_[i];
      std::string key = service_key(need.name, need.major);
      std::vector<LoadedPlugin*> cands;
      for (LoadedPlugin* c : providers[key])
        if (c != p) cands.push_back(c);
      if (cands.empty()) {
        if (need.optional) continue;
        throw PluginError(p->name, "requires service " + describe(need) + ", which no enabled plugin provides");
      }
      p->bound[key] = choose(p, need, cands, global_bind);
    }
  }
  check_ambiguous_providers(providers, plugins, global_bind);
  return dependency_order(plugins);
}

}  // namespace dicomd
