-- wrk script: request the paths listed in $BENCH_PATHS in turn.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  paths[#paths + 1] = line
end
local counter = 0
function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
