from novita_gpu.cli.launch import run

run()
