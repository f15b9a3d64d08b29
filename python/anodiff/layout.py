"""The layout of a model's flattened parameters (layout.csv, docs/formats.md): names, shapes, offsets in recording
order, and the scale-invariant groups found by tracing the model with torch.fx. torch is imported when used."""
import warnings

__all__ = ["flat_parameters", "parameter_layout"]


def _named_parameters(model):
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    return [("param_%d" % i, p) for i, p in enumerate(model)]


def _scale_invariant_modules(model):
    """Modules whose output goes straight into a BatchNorm (and nowhere else), found by tracing the model with
    torch.fx: rescaling their parameters together leaves the loss unchanged. {} if the model cannot be traced."""
    import torch
    from torch import nn
    try:
        import torch.fx
        graph = torch.fx.symbolic_trace(model)
    except Exception as e:  # dynamic control flow, unsupported ops
        warnings.warn(f"anodiff.parameter_layout: cannot trace the model with torch.fx ({type(e).__name__}); "
                      "no scale-invariant groups in layout.csv (pass groups=...)")
        return set()
    modules = dict(graph.named_modules())
    found = set()
    for node in graph.graph.nodes:
        if node.op != "call_module" or not isinstance(modules.get(node.target), nn.modules.batchnorm._BatchNorm):
            continue
        src = node.args[0] if node.args else None
        if (isinstance(src, torch.fx.Node) and src.op == "call_module" and len(src.users) == 1
                and isinstance(modules.get(src.target), (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear))):
            found.add(src.target)
    return found


def parameter_layout(model, groups="auto"):
    """The layout of the flattened parameter vector of `model` (names, shapes, offsets in the order of
    model.named_parameters(), which is the order of the recorded coordinates) as rows of layout.csv:
    a list of (name, offset, size, shape, group).

    groups: "auto" (a convolution or linear layer that feeds only a BatchNorm is a scale-invariant group, found with
    torch.fx; as anodiff-train's ResNets and VGG-9), None (no groups), or a dict {module or parameter name: group}.
    """
    params = _named_parameters(model)
    if groups == "auto":
        invariant = _scale_invariant_modules(model) if hasattr(model, "named_parameters") else set()
        mapping, numbers = {}, {}
        for name, _ in params:
            module = name.rpartition(".")[0]
            if module in invariant:
                mapping[name] = numbers.setdefault(module, len(numbers))
    elif groups is None:
        mapping = {}
    else:
        mapping = {}
        for name, _ in params:
            module = name.rpartition(".")[0]
            g = groups.get(name, groups.get(module, -1))
            if g >= 0:
                mapping[name] = int(g)
    rows, offset = [], 0
    for name, p in params:
        rows.append((name, offset, p.numel(), tuple(p.shape), mapping.get(name, -1)))
        offset += p.numel()
    return rows


def _layout_csv(rows):
    return "name,offset,size,shape,group\n" + "".join(
        "%s,%d,%d,%s,%d\n" % (n, o, s, "x".join(str(d) for d in shape), g) for n, o, s, shape, g in rows)


def flat_parameters(model):
    """The parameters of `model` (or an iterable of tensors) as one float32 numpy vector, in recording order."""
    import torch
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1).float().cpu() for _, p in _named_parameters(model)]).numpy()
