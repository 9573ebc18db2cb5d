from novita_gpu.cli.main import run

run()
