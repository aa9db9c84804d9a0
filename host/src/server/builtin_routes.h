// The host's own routes: GET /plugins, /health, /metrics (ops/metrics_page)
// and /openapi.json (ops/openapi), with their OpenAPI operations.
#pragma once

#include <string>

#include "config.h"
#include "http/response.h"
#include "plugins/plugin_manager.h"

namespace dicomd {

inline constexpr const char* kPluginsDoc = R"({
  "summary": "The configured plugins: name, version, ABI, services, routes, enabled",
  "responses": {"200": {"description": "{\"success\":true,\"abiVersion\":…,\"plugins\":[…]}",
                        "content": {"application/json": {"schema": {"type": "object"}}}}}})";
inline constexpr const char* kHealthDoc = R"({
  "summary": "Liveness, and each plugin's readiness",
  "responses": {"200": {"description": "every plugin is ready: {\"status\":\"ok\",…}",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": {"description": "a plugin is not ready: {\"status\":\"degraded\",…}"}}})";
inline constexpr const char* kMetricsDoc = R"({
  "summary": "Metrics in the Prometheus text format",
  "description": "Requests by route pattern, method and status class; latency histograms; worker jobs; the plugins' own series. See docs/operations.md.",
  "responses": {"200": {"description": "the exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}}})";
inline constexpr const char* kOpenApiDoc = R"({
  "summary": "This document: the OpenAPI 3.1 description of every mounted route",
  "responses": {"200": {"description": "the document",
                        "content": {"application/json": {"schema": {"type": "object"}}}}}})";

// What the plugins are: name, version, ABI, services, routes, enabled flag.
http::Response plugins_report(const Config& config, const PluginManager& plugins);
// Liveness plus each plugin's readiness; 503 when one is not ready.
http::Response health_report(const PluginManager& plugins);

}  // namespace dicomd
