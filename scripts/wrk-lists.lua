-- wrk script: GET {PREFIX}/lists/{random id 1..100}?size={SIZE}, with Accept-Encoding {ACCEPT_ENCODING} when set
-- and, when ETAGS names a file of "id etag" lines, If-None-Match with that id's tag (a revalidating client).
local prefix = os.getenv("PREFIX") or "/cached"
local accept = os.getenv("ACCEPT_ENCODING") or ""
local size = os.getenv("SIZE") or "60"
local etags = {}
local file = os.getenv("ETAGS") or ""
if file ~= "" then
  for line in io.lines(file) do
    local id, tag = line:match("^(%d+) (.+)$")
    if id then etags[tonumber(id)] = tag end
  end
end
math.randomseed(42)

request = function()
  local id = math.random(1, 100)
  local headers = {}
  if accept ~= "" then headers["Accept-Encoding"] = accept end
  if etags[id] then headers["If-None-Match"] = etags[id] end
  return wrk.format("GET", prefix .. "/lists/" .. id .. "?size=" .. size, headers)
end
