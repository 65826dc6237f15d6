// Tables the MarketFinder pipeline writes through the mutations in arbitrage.ts, markets.ts and
// system.ts. The Python publisher (mflib/convex.py) sends exactly these fields, and the test stub
// (tests/convex_stub.py) validates them the same way.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

// Fields of one opportunity as sent by the publisher. The mutation adds `status` and
// `lastSeenRunId`. Prices are dollars (0..1) and `profitMargin` is a fraction of the cost.
export const opportunityFields = {
  opportunityId: v.string(),
  buyMarketTitle: v.string(),
  sellMarketTitle: v.string(),
  buyPlatform: v.string(),
  sellPlatform: v.string(),
  buyPrice: v.number(),
  sellPrice: v.number(),
  buyVolume: v.union(v.number(), v.null()),
  sellVolume: v.union(v.number(), v.null()),
  buyUrl: v.union(v.string(), v.null()),
  sellUrl: v.union(v.string(), v.null()),
  profitMargin: v.number(),
  confidence: v.number(),
  reasoning: v.string(),
  // ISO 8601 timestamps, as in opportunities.json.
  detectedAt: v.string(),
  expiresAt: v.union(v.string(), v.null()),
  // Fields outside the website contract: legs, fees, executable size, risk flags, ...
  details: v.any(),
};

export const opportunityStatus = v.union(v.literal("active"), v.literal("expired"));

export const platformSummaryFields = {
  platform: v.string(),
  totalMarkets: v.number(),
  avgVolume: v.union(v.number(), v.null()),
  topCategories: v.array(v.string()),
};

export const healthStatus = v.union(v.literal("healthy"), v.literal("degraded"), v.literal("down"));

export const syncMetrics = v.object({
  marketsProcessed: v.number(),
  opportunitiesFound: v.number(),
  // Seconds the pipeline run took.
  processingTime: v.number(),
});

export default defineSchema({
  arbitrageOpportunities: defineTable({
    ...opportunityFields,
    status: opportunityStatus,
    lastSeenRunId: v.string(),
    expiredInRunId: v.optional(v.string()),
  })
    .index("by_profitMargin", ["profitMargin"])
    .index("by_opportunityId", ["opportunityId"])
    .index("by_status", ["status"]),

  marketSummaries: defineTable({
    ...platformSummaryFields,
    lastUpdated: v.string(),
    nextUpdate: v.union(v.string(), v.null()),
    runId: v.string(),
  }).index("by_platform", ["platform"]),

  systemStatus: defineTable({
    component: v.string(),
    runId: v.string(),
    status: healthStatus,
    lastSync: v.string(),
    metrics: syncMetrics,
    errors: v.array(v.string()),
  }).index("by_component", ["component"]),
});
