# What Cycles makes of Blender's lamps, measured (not run in CI): the facts octane's KHR_lights_punctual
# units and spot cone rest on (mod/scene/_gltf_lights.ts, kernels/common/punctual.wgsl).
#
#   blender -b --factory-startup --python tools/blender_light_units.py
#
# A white Lambertian plane (albedo 0.8) seen from above by an orthographic camera, lit by one lamp 2 m above
# it, black world, direct light only. Prints Cycles' radiance beside what octane's formulas give:
# - point lamp of power P (radius 0): radiant intensity I = P / (4 pi), radiance rho I cos^3(a) / (pi h^2);
# - sun of strength S (angle 0): irradiance S, radiance rho S / pi;
# - spot lamp of power P, spot size 2 outer, blend b: the point lamp's radiance times
#   cos(a) * smoothstep(0, (1 - cos outer) * b, cos(a) - cos(outer)), zero outside the cone.
# The spot's factor is its image over the point lamp's, pixel by pixel, beside the formula and beside the glTF
# specification's suggested curve for the cone Blender's exporter writes (inner = outer (1 - blend)). The
# angles assume pixel centres; Cycles' pixels sit a little further out (the factor runs ~0.5% under the
# formula inside the cone, a few % in the steep blend band), while the spec's curve is off by up to 4x there.
# Measured with Blender 3.4: point and sun ratios 1.0000.

import math

import bpy

RHO, H, P, SUN = 0.8, 2.0, 1000.0, 3.0
N = 32  # pixels along x in [0, 4) m


def smoothstep(e0, e1, x):
    t = min(1.0, max(0.0, (x - e0) / (e1 - e0)))
    return t * t * (3 - 2 * t)


def render(kind, wide=True, **props):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    bpy.ops.mesh.primitive_plane_add(size=100, location=(0, 0, 0))
    m = bpy.data.materials.new("white")
    m.use_nodes = True
    nt = m.node_tree
    nt.nodes.clear()
    d = nt.nodes.new("ShaderNodeBsdfDiffuse")
    d.inputs["Color"].default_value = (RHO, RHO, RHO, 1)
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    nt.links.new(d.outputs[0], out.inputs[0])
    bpy.context.object.data.materials.append(m)
    lamp = bpy.data.lights.new("lamp", kind)
    for k, v in props.items():
        setattr(lamp, k, v)
    obj = bpy.data.objects.new("lamp", lamp)
    obj.location = (0, 0, H)
    scene.collection.objects.link(obj)
    cd = bpy.data.cameras.new("camera")
    cd.type = "ORTHO"
    cd.ortho_scale = 4.0 if wide else 0.01  # x in [0, 4) m, or the point below the lamp
    cam = bpy.data.objects.new("camera", cd)
    cam.location = (2, 0, 5) if wide else (0, 0, 5)
    scene.collection.objects.link(cam)
    scene.camera = cam
    world = bpy.data.worlds.new("black")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0
    scene.world = world
    scene.render.engine = "CYCLES"
    cy = scene.cycles
    cy.device, cy.samples, cy.use_denoising, cy.use_adaptive_sampling = "CPU", 16, False, False
    cy.max_bounces, cy.filter_width, cy.light_sampling_threshold = 0, 0.01, 0.0
    scene.render.resolution_x, scene.render.resolution_y = N, 2
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    scene.render.filepath = "/tmp/octane_blender_light_units.exr"
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(scene.render.filepath)
    return [img.pixels[i * 4] for i in range(N)]


def spec(c, outer, blend):
    """The glTF specification's suggested curve for the cone the exporter writes (inner = outer (1 - blend))."""
    inner = outer * (1 - blend)
    if inner >= outer:
        return 1.0 if c > math.cos(outer) else 0.0
    t = min(1.0, max(0.0, (c - math.cos(outer)) / (math.cos(inner) - math.cos(outer))))
    return t * t


def point_radiance(x):
    r2 = x * x + H * H
    return P / (4 * math.pi) * RHO / math.pi * (H / math.sqrt(r2)) / r2


lines = []
px = render("POINT", wide=False, energy=P, shadow_soft_size=0.0)
lines.append(f"point  below the lamp: Cycles {px[0]:.4f}, I = P/4pi: {point_radiance(0):.4f}, "
             f"ratio {px[0] / point_radiance(0):.4f}")
px = render("SUN", wide=False, energy=SUN, angle=0.0)
lines.append(f"sun    Cycles {px[0]:.4f}, E = S: {RHO * SUN / math.pi:.4f}, ratio {px[0] * math.pi / (RHO * SUN):.4f}")
# the spot's angular factor: the spot's image over the point lamp's, pixel by pixel
point = render("POINT", energy=P, shadow_soft_size=0.0)
outer = math.radians(45)
for blend in (0.0, 0.5):
    px = render("SPOT", energy=P, shadow_soft_size=0.0, spot_size=2 * outer, spot_blend=blend)
    for i in range(0, N, 2):
        x = (i + 0.5) / N * 4
        c = H / math.hypot(x, H)
        f = 0.0 if c <= math.cos(outer) else c * (
            1.0 if blend == 0 else smoothstep(0, (1 - math.cos(outer)) * blend, c - math.cos(outer)))
        lines.append(f"spot   blend {blend} angle {math.degrees(math.acos(c)):5.1f} deg: factor {px[i] / point[i]:.4f}, "
                     f"formula {f:.4f}, spec's curve {spec(c, outer, blend):.4f}")
print("\n".join(lines))
