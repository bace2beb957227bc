def tests(*a):
    pass
