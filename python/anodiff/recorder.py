"""anodiff.Recorder (placeholder while the module is built)."""

class Recorder:  # pragma: no cover
    pass

def flat_parameters(model):  # pragma: no cover
    raise NotImplementedError

def parameter_layout(model):  # pragma: no cover
    raise NotImplementedError
