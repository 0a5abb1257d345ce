# Builds the punctual-lights round-trip test data with Blender (not run in CI):
#
#   blender -b --factory-startup --python tools/blender_lights_room.py -- OUT_DIR [SAMPLES]
#
# A small open room (floor, back and left walls, a box) lit by a point lamp, a spot lamp and a sun, all
# delta lights (radius 0, sun angle 0), under a black world. Cycles renders it on the CPU at 128x96 (box
# pixel filter, no denoising, no clamping, no light threshold, deep bounces, Standard view transform) into
# OUT_DIR/cycles.pfm (linear float RGB, rows bottom to top), and the glTF exporter writes OUT_DIR/room.glb in
# its default ("Standard") lighting mode. tests/lights_room_test.ts renders the .glb with octane and compares
# it with cycles.pfm block by block.
#
# Materials are Principled BSDFs with Specular 0, exported as KHR_materials_specular's specularColorFactor
# [0, 0, 0]: glTF's (and octane's) pure Lambertian surface. Cycles 3.x's Principled diffuse is Burley's, not
# Lambert's (a few percent brighter where light or view graze, ~3% on this floor), so Cycles renders the same
# colours through a Diffuse BSDF (Lambert at roughness 0) beside each Principled node, which is connected
# back before the export; OCTANE_PRINCIPLED=1 renders the Principled BSDFs instead. Other switches, to look
# into a disagreement: OCTANE_ONLY_LIGHT=point|spot|sun keeps one light, OCTANE_BOUNCES=0 renders direct
# light only (octane: --max-depth 1), OCTANE_SPOT_BLEND=X sets the spot's blend (0 by default: Cycles' blend
# curve is not the glTF spec's falloff, which octane follows).

import math
import os
import struct
import sys

import bpy
from mathutils import Vector

argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
if not argv:
    print("usage: blender -b --factory-startup --python tools/blender_lights_room.py -- OUT_DIR [SAMPLES]")
    sys.exit(2)
out_dir = os.path.abspath(argv[0])
samples = int(argv[1]) if len(argv) > 1 else 4096
os.makedirs(out_dir, exist_ok=True)

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene


def material(name, color):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    bsdf = m.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Specular"].default_value = 0.0
    bsdf.inputs["Roughness"].default_value = 0.5
    bsdf.inputs["Sheen Tint"].default_value = 0.0
    if not os.environ.get("OCTANE_PRINCIPLED"):
        diffuse = m.node_tree.nodes.new("ShaderNodeBsdfDiffuse")
        diffuse.inputs["Color"].default_value = (*color, 1.0)
        m.node_tree.links.new(diffuse.outputs["BSDF"], m.node_tree.nodes["Material Output"].inputs["Surface"])
    return m


def box(name, center, size, mat):
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=center)
    obj = bpy.context.active_object
    obj.name = name
    obj.scale = size
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    obj.data.materials.append(mat)
    return obj


grey = material("floor", (0.6, 0.6, 0.6))
white = material("wall", (0.75, 0.75, 0.7))
red = material("red wall", (0.6, 0.15, 0.12))
green = material("box", (0.15, 0.45, 0.2))

# Blender is Z-up; the exporter turns it into glTF's Y-up. Thin boxes for walls (closed, outward faces).
box("floor", (0, 0, -0.05), (4, 4, 0.1), grey)
box("back wall", (0, 2.05, 1.25), (4, 0.1, 2.5), white)
box("left wall", (-2.05, 0, 1.25), (0.1, 4, 2.5), red)
box("box", (0.5, 0.6, 0.35), (0.7, 0.7, 0.7), green)


def aim(obj, target):
    obj.rotation_euler = (Vector(target) - obj.location).to_track_quat("-Z", "Y").to_euler()


point = bpy.data.lights.new("point", "POINT")
point.energy = 150.0
point.color = (1.0, 0.85, 0.7)
point.shadow_soft_size = 0.0
o = bpy.data.objects.new("point", point)
o.location = (-1.2, 0.3, 1.9)
scene.collection.objects.link(o)

spot = bpy.data.lights.new("spot", "SPOT")
spot.energy = 400.0
spot.color = (0.7, 0.8, 1.0)
spot.shadow_soft_size = 0.0
spot.spot_size = math.radians(40)
spot.spot_blend = float(os.environ.get("OCTANE_SPOT_BLEND", "0"))
o = bpy.data.objects.new("spot", spot)
o.location = (1.0, -0.6, 2.4)
scene.collection.objects.link(o)
aim(o, (0.9, 1.0, 0.0))

sun = bpy.data.lights.new("sun", "SUN")
sun.energy = 1.5
sun.angle = 0.0
o = bpy.data.objects.new("sun", sun)
o.location = (3, -2, 4)
scene.collection.objects.link(o)
aim(o, (0, 0, 0))

camera = bpy.data.cameras.new("camera")
camera.lens = 30
camera.sensor_fit = "AUTO"
o = bpy.data.objects.new("camera", camera)
o.location = (1.2, -5.0, 1.7)
scene.collection.objects.link(o)
aim(o, (-0.2, 0.6, 0.7))
scene.camera = o

# OCTANE_ONLY_LIGHT=point|spot|sun keeps that light alone (to look into a disagreement light by light)
only = os.environ.get("OCTANE_ONLY_LIGHT")
if only:
    for name in ("point", "spot", "sun"):
        if name != only:
            bpy.data.objects.remove(bpy.data.objects[name])

world = bpy.data.worlds.new("black")
world.use_nodes = True
world.node_tree.nodes["Background"].inputs["Color"].default_value = (0, 0, 0, 1)
world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.0
scene.world = world

scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = samples
scene.cycles.use_adaptive_sampling = False
scene.cycles.use_denoising = False
scene.cycles.pixel_filter_type = "BOX"
scene.cycles.filter_width = 1.0
scene.cycles.sample_clamp_direct = 0.0
scene.cycles.sample_clamp_indirect = 0.0
scene.cycles.light_sampling_threshold = 0.0
scene.cycles.blur_glossy = 0.0
scene.cycles.max_bounces = int(os.environ.get("OCTANE_BOUNCES", "64"))
scene.cycles.diffuse_bounces = 64
scene.cycles.glossy_bounces = 64
scene.cycles.transmission_bounces = 64
scene.cycles.min_light_bounces = 0
scene.cycles.seed = 1
scene.render.resolution_x = 128
scene.render.resolution_y = 96
scene.render.resolution_percentage = 100
scene.render.film_transparent = False
scene.view_settings.view_transform = "Standard"
scene.view_settings.look = "None"
scene.view_settings.exposure = 0.0
scene.view_settings.gamma = 1.0
scene.render.image_settings.file_format = "OPEN_EXR"
scene.render.image_settings.color_depth = "32"
scene.render.image_settings.exr_codec = "ZIP"

exr = os.path.join(out_dir, "cycles.exr")
scene.render.filepath = exr
bpy.ops.render.render(write_still=True)

# EXR holds scene-linear values (no view transform); write them as a PFM (bottom row first, like Blender's
# pixel buffer) that octane's tests read without an EXR decoder.
image = bpy.data.images.load(exr)
w, h = image.size
px = list(image.pixels)
with open(os.path.join(out_dir, "cycles.pfm"), "wb") as f:
    f.write(b"PF\n%d %d\n-1.0\n" % (w, h))
    rgb = []
    for i in range(w * h):
        rgb.extend(px[i * 4:i * 4 + 3])
    f.write(struct.pack("<%df" % len(rgb), *rgb))
os.remove(exr)

# the exporter reads the Principled BSDF
for m in bpy.data.materials:
    if m.use_nodes and "Principled BSDF" in m.node_tree.nodes:
        out = m.node_tree.nodes["Material Output"].inputs["Surface"]
        m.node_tree.links.new(m.node_tree.nodes["Principled BSDF"].outputs["BSDF"], out)

bpy.ops.export_scene.gltf(
    filepath=os.path.join(out_dir, "room.glb"),
    export_format="GLB",
    export_cameras=True,
    export_lights=True,
    export_apply=True,
    convert_lighting_mode="SPEC",
)
print("wrote", out_dir)
