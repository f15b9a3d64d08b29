"""A small deterministic PyTorch training loop recorded with anodiff.Recorder, run as a subprocess by
test_recorder.py. Usage: recorder_run.py PATH EPOCHS [KILL] where KILL is
  step:N        SIGKILL right after step N (mid-epoch: the epoch's steps are still in memory)
  written:E     SIGKILL while the chunk of epoch E is written (complete in its temporary file, not renamed)
  committed:E   SIGKILL after the chunk of epoch E is renamed into place, before its checkpoint
RECORDER_RUN_EPOCH_PAUSE=S in the environment: a pause of S seconds after each epoch (a run slow enough to follow).
"""
import os
import signal
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

import anodiff

path, epochs = sys.argv[1], int(sys.argv[2])
kill = sys.argv[3].split(":") if len(sys.argv) > 3 else None

torch.set_num_threads(1)
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
data = torch.Generator().manual_seed(1)
X = torch.randn(640, 20, generator=data)
y = (X[:, :4].argmax(1) + (torch.rand(640, generator=data) < 0.2).long()) % 4



class Recorder(anodiff.Recorder):
    """anodiff.Recorder with the kill in place before its worker starts (the constructor queues chunk 0)."""

    def _call_hook(self, stage):
        if kill and kill[0] in ("written", "committed") and stage == kill[0] and self.epoch == int(kill[1]):
            os.kill(os.getpid(), signal.SIGKILL)


rec = Recorder(model, path, optimizer=optimizer, stateful=[scheduler], columns=("grad_norm", "lr"), projection=50,
               seed=7)
print(f"start epoch {rec.epoch + 1} resumed {rec.resumed}", flush=True)
for epoch in range(rec.epoch + 1, epochs + 1):
    order = torch.randperm(640, generator=torch.Generator().manual_seed(epoch))
    for i in range(0, 640, 64):
        idx = order[i:i + 64]
        loss = F.cross_entropy(model(X[idx] + 0.1 * torch.randn(len(idx), 20)), y[idx])  # global RNG: restored
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        rec.step(loss)
        if kill and kill[0] == "step" and rec.step_count == int(kill[1]):
            os.kill(os.getpid(), signal.SIGKILL)
    scheduler.step()
    rec.end_epoch()
    time.sleep(float(os.environ.get("RECORDER_RUN_EPOCH_PAUSE", "0")))
rec.close()
print("done", flush=True)
