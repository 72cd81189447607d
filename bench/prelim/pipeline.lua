-- wrk script: send `depth` requests back to back per round trip (HTTP pipelining).
-- usage: wrk -s pipeline.lua ... -- <depth> [path]
local depth, path = 16, "/plaintext"
function init(args)
  depth = tonumber(args[1] or depth)
  path = args[2] or path
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", path)
  end
  req = table.concat(r)
end
function request()
  return req
end
