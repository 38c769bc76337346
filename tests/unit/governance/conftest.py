import sys
from pathlib import Path

# The helpers module sits beside the tests; there is no package __init__ here.
sys.path.insert(0, str(Path(__file__).parent))
