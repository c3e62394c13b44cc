-- Argo CD health of a FoxDB resource from its status (kstatus conditions: Ready, Reconciling,
-- Stalled); the same rules for the three kinds, except where the comment says.
local hs = {}
local function condition(conditions, type_)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type_ then
      return c
    end
  end
  return nil
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the FoxDB operator"
  return hs
end
local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the FoxDB operator to see generation " .. tostring(generation)
  return hs
end

local ready = condition(obj.status.conditions, "Ready")
local stalled = condition(obj.status.conditions, "Stalled")
local reconciling = condition(obj.status.conditions, "Reconciling")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the FoxDB operator"
  return hs
end
local message = ready.message or ""
if ready.reason ~= nil and ready.reason ~= "" then
  message = ready.reason .. ": " .. message
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
  return hs
end
if ready.reason == "ApprovalPending" then
  hs.status = "Suspended"
  hs.message = message
  return hs
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = message
  return hs
end
if ready.status == "Unknown" then
  hs.status = "Unknown"
  hs.message = message
  return hs
end
hs.status = "Progressing"
hs.message = message
if reconciling ~= nil and reconciling.message ~= nil and reconciling.message ~= "" then
  hs.message = ready.reason .. ": " .. reconciling.message
end
return hs
