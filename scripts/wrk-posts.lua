-- wrk script: GET {PREFIX}/posts/{random id 1..1000}; with WRITE_PERCENT > 0, that share of requests are PUTs
-- (which invalidate). Run: PREFIX=/cached WRITE_PERCENT=10 wrk -s scripts/wrk-posts.lua http://127.0.0.1:PORT
local prefix = os.getenv("PREFIX") or "/cached"
local writes = tonumber(os.getenv("WRITE_PERCENT") or "0")
math.randomseed(42)

request = function()
  local id = math.random(1, 1000)
  if writes > 0 and math.random(1, 100) <= writes then
    return wrk.format("PUT", prefix .. "/posts/" .. id)
  end
  return wrk.format("GET", prefix .. "/posts/" .. id)
end
