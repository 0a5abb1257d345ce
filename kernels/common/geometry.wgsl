// Geometry bindings of every kernel that traces rays (group 0, bindings 1 and 2).

@group(0) @binding(1) var<storage, read> nodes: array<Node>;
@group(0) @binding(2) var<storage, read> tris: array<Tri>;
