-- ../shared/bench/ingest.lua (INGEST_LUA), paced: before each request a connection waits a
-- random 0 to 2 * DELAY_MS ms (mean DELAY_MS), so 32 connections offer about
-- 32 * 1000 / (DELAY_MS + latency) requests/s in a Poisson-like stream rather than in
-- synchronized bursts: latency at a given load, not at saturation. wrk's delay() counts in ms.
dofile(os.getenv("INGEST_LUA"))
local pause = tonumber(os.getenv("DELAY_MS") or "0")
math.randomseed(os.time())
function delay() return math.random(0, 2 * pause) end
