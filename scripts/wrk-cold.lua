-- wrk script: every request a new key, GET {PREFIX}/lists/{id}?size={SIZE} with ids no other request uses
-- (each thread counts up from its own random base), so every request is a miss.
local prefix = os.getenv("PREFIX") or "/cached"
local size = os.getenv("SIZE") or "10"
local threads = 0

setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

init = function(args)
  math.randomseed(os.time() * 7 + tonumber(tid))
  counter = tonumber(tid) * 1000000000 + math.random(0, 900000000)
end

request = function()
  counter = counter + 1
  return wrk.format("GET", prefix .. "/lists/" .. counter .. "?size=" .. size)
end
